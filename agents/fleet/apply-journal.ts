// The crash-safe apply journal. Before the first object of a revision is touched, the whole plan
// (every apply and prune step, in order) is written as the intent; each step is marked done in the
// same transaction that records its effect in the inventory; the journal is closed when the last
// step is done. A process killed at any point (kill -9, power loss) finds the open journal on
// restart and continues at the first step not marked done: server-side apply is idempotent and a
// prune of an object already gone is a no-op, so replaying the step that was in flight is safe.
import type { Database } from 'better-sqlite3';
import type { InventoryEntry, ObjectRef } from './types.ts';
import { keyOf } from './object-ref.ts';

/** apply: server-side apply; prune: delete, it left the revision; orphan: it left the revision but keepResources keeps it live. */
export type StepAction = 'apply' | 'prune' | 'orphan';

export interface JournalStep {
  step: number;
  action: StepAction;
  ref: ObjectRef;
  done: boolean;
}

export interface OpenJournal {
  deploymentId: string;
  revision: string;
  steps: JournalStep[];
}

export interface ApplyJournal {
  /** Writes the intent for `revision`, replacing any unfinished plan of this deployment. */
  begin(deploymentId: string, revision: string, steps: { action: StepAction; ref: ObjectRef }[], now: Date): void;
  /** The unfinished journal of a deployment, if any. */
  open(deploymentId: string): OpenJournal | undefined;
  /** Every deployment with an unfinished journal (what a restart must resume). */
  unfinished(): string[];
  /** Step applied: done, and the object (with its uid) is in the inventory — atomically. */
  applied(deploymentId: string, step: number, entry: InventoryEntry): void;
  /** Step pruned (or deliberately kept): done, and the object leaves the inventory — atomically. */
  pruned(deploymentId: string, step: number, ref: ObjectRef): void;
  /** Every step done: close the journal and record the revision as applied. */
  finish(deploymentId: string, revision: string, now: Date): void;
}

export function createApplyJournal(db: Database): ApplyJournal {
  const del = db.prepare('DELETE FROM fleet_journal WHERE deployment_id = ?');
  const delSteps = db.prepare('DELETE FROM fleet_journal_steps WHERE deployment_id = ?');
  const ins = db.prepare('INSERT INTO fleet_journal (deployment_id, revision, started_at) VALUES (?, ?, ?)');
  const insStep = db.prepare('INSERT INTO fleet_journal_steps (deployment_id, step, action, obj_key, ref) VALUES (?, ?, ?, ?, ?)');
  const getOpen = db.prepare('SELECT revision FROM fleet_journal WHERE deployment_id = ? AND finished_at IS NULL');
  const getSteps = db.prepare('SELECT step, action, ref, done FROM fleet_journal_steps WHERE deployment_id = ? ORDER BY step');
  const listOpen = db.prepare('SELECT deployment_id FROM fleet_journal WHERE finished_at IS NULL ORDER BY deployment_id').pluck();
  const markDone = db.prepare('UPDATE fleet_journal_steps SET done = 1 WHERE deployment_id = ? AND step = ?');
  const upsertInv = db.prepare(`INSERT INTO fleet_inventory (deployment_id, obj_key, grp, version, kind, namespace, name, uid)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (deployment_id, obj_key) DO UPDATE SET
      grp = excluded.grp, version = excluded.version, kind = excluded.kind, uid = excluded.uid`);
  const delInv = db.prepare('DELETE FROM fleet_inventory WHERE deployment_id = ? AND obj_key = ?');
  const close = db.prepare('UPDATE fleet_journal SET finished_at = ? WHERE deployment_id = ?');
  const recordApplied = db.prepare(`INSERT INTO fleet_applied (deployment_id, revision, applied_at, error, error_revision)
      VALUES (?, ?, ?, NULL, NULL) ON CONFLICT (deployment_id) DO UPDATE SET
      revision = excluded.revision, applied_at = excluded.applied_at, error = NULL, error_revision = NULL`);

  return {
    begin: db.transaction((deploymentId: string, revision: string, steps: { action: StepAction; ref: ObjectRef }[], now: Date) => {
      del.run(deploymentId);
      delSteps.run(deploymentId);
      ins.run(deploymentId, revision, now.toISOString());
      steps.forEach((s, i) => insStep.run(deploymentId, i, s.action, keyOf(s.ref), JSON.stringify(s.ref)));
    }),
    open(deploymentId) {
      const revision = getOpen.pluck().get(deploymentId) as string | undefined;
      if (revision === undefined) return undefined;
      const rows = getSteps.all(deploymentId) as { step: number; action: StepAction; ref: string; done: number }[];
      return { deploymentId, revision, steps: rows.map((r) => ({ step: r.step, action: r.action, ref: JSON.parse(r.ref) as ObjectRef, done: r.done === 1 })) };
    },
    unfinished: () => listOpen.all() as string[],
    applied: db.transaction((deploymentId: string, step: number, e: InventoryEntry) => {
      markDone.run(deploymentId, step);
      upsertInv.run(deploymentId, keyOf(e), e.group, e.version, e.kind, e.namespace, e.name, e.uid);
    }),
    pruned: db.transaction((deploymentId: string, step: number, ref: ObjectRef) => {
      markDone.run(deploymentId, step);
      delInv.run(deploymentId, keyOf(ref));
    }),
    finish: db.transaction((deploymentId: string, revision: string, now: Date) => {
      close.run(now.toISOString(), deploymentId);
      delSteps.run(deploymentId);
      recordApplied.run(deploymentId, revision, now.toISOString());
    }),
  };
}
