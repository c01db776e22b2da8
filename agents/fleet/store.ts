// The fleet agent's durable state on the agent's one SQLite database (handed in by the caller):
// desired deployments, what was last applied (or failed) per deployment, the inventory of applied
// objects, the apply journal and the status outbox. Everything the reconcile loop needs lives
// here, so the agent keeps enforcing with no server, also after a restart.
import type { Database } from 'better-sqlite3';
import type { DeploymentOptions, DeploymentStatus, DesiredDeployment, InventoryEntry, KubeObject } from './types.ts';
import { migrateFleetTables } from './store-migrations.ts';
import { createApplyJournal, type ApplyJournal } from './apply-journal.ts';
import { createOutbox, type Outbox } from './outbox.ts';
import { validateManifests } from './manifest-check.ts';
import { keyOf } from './object-ref.ts';

export interface AppliedRecord {
  /** The revision whose apply completed last (undefined: never applied). */
  revision: string | undefined;
  appliedAt: string | undefined;
  /** The last apply error (`CODE: message`) and the revision it concerned, until a later success. */
  error: string | undefined;
  errorRevision: string | undefined;
}

export interface FleetStore {
  /**
   * Stores a desired deployment durably and returns what to acknowledge. Invalid manifest sets
   * throw (MANIFEST_INVALID, TOO_MANY_OBJECTS, DUPLICATE_OBJECT) and leave the previous revision.
   */
  acceptDesired(d: DesiredDeployment): { deploymentId: string; revision: string };
  /**
   * The server no longer wants this deployment: stored durably (like acceptDesired) and returned
   * by `removedDeployments()` until the reconciler has pruned its objects and calls `forget`.
   */
  removeDesired(id: string): boolean;
  deployment(id: string): DesiredDeployment | undefined;
  /** Deployments in force (not removed). */
  deployments(): DesiredDeployment[];
  removedDeployments(): DesiredDeployment[];
  /** Drops every row of a removed deployment once its objects are pruned. */
  forget(id: string): void;
  /** The latest status queued per deployment (kept after the outbox drained). */
  latestStatuses(): DeploymentStatus[];
  /** What the server needs to know it has nothing to re-send: each deployment's revision and options (no manifests). */
  held(): { deploymentId: string; revision: string; options: DeploymentOptions }[];
  applied(id: string): AppliedRecord;
  recordError(id: string, revision: string, error: string): void;
  inventory(id: string): InventoryEntry[];
  /** A drift correction re-created an inventory object: keep its new uid. */
  updateUid(id: string, entry: InventoryEntry): void;
  journal: ApplyJournal;
  outbox: Outbox;
}

export function createFleetStore(db: Database, opts: { now?: () => Date; outboxMaxRows?: number } = {}): FleetStore {
  const now = opts.now ?? (() => new Date());
  migrateFleetTables(db, now);
  const upsert = db.prepare(`INSERT INTO fleet_deployments (id, bundle, revision, manifests, options, received_at)
      VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET bundle = excluded.bundle, revision = excluded.revision,
      manifests = excluded.manifests, options = excluded.options, received_at = excluded.received_at, removed_at = NULL`);
  const one = db.prepare('SELECT id, bundle, revision, manifests, options FROM fleet_deployments WHERE id = ? AND removed_at IS NULL');
  const all = db.prepare('SELECT id, bundle, revision, manifests, options FROM fleet_deployments WHERE removed_at IS NULL ORDER BY id');
  const allRemoved = db.prepare('SELECT id, bundle, revision, manifests, options FROM fleet_deployments WHERE removed_at IS NOT NULL ORDER BY id');
  const markRemoved = db.prepare('UPDATE fleet_deployments SET removed_at = ? WHERE id = ? AND removed_at IS NULL');
  const held = db.prepare('SELECT id, revision, options FROM fleet_deployments WHERE removed_at IS NULL ORDER BY id');
  const statuses = db.prepare('SELECT status FROM fleet_status ORDER BY deployment_id').pluck();
  const forgetAll = ['fleet_deployments WHERE id', 'fleet_applied WHERE deployment_id', 'fleet_inventory WHERE deployment_id',
    'fleet_journal WHERE deployment_id', 'fleet_journal_steps WHERE deployment_id', 'fleet_status WHERE deployment_id', 'fleet_meta WHERE key']
    .map((t) => db.prepare(`DELETE FROM ${t} = ?`));
  const appliedRow = db.prepare('SELECT revision, applied_at, error, error_revision FROM fleet_applied WHERE deployment_id = ?');
  const setError = db.prepare(`INSERT INTO fleet_applied (deployment_id, error, error_revision) VALUES (?, ?, ?)
      ON CONFLICT (deployment_id) DO UPDATE SET error = excluded.error, error_revision = excluded.error_revision`);
  const setUid = db.prepare('UPDATE fleet_inventory SET uid = ? WHERE deployment_id = ? AND obj_key = ?');
  const inv = db.prepare('SELECT grp, version, kind, namespace, name, uid FROM fleet_inventory WHERE deployment_id = ? ORDER BY obj_key');

  type Row = { id: string; bundle: string; revision: string; manifests: string; options: string };
  const decode = (r: Row): DesiredDeployment => ({
    id: r.id,
    bundle: r.bundle,
    revision: r.revision,
    manifests: JSON.parse(r.manifests) as KubeObject[],
    options: JSON.parse(r.options) as DeploymentOptions,
  });

  const write = db.transaction((d: DesiredDeployment) => {
    upsert.run(d.id, d.bundle, d.revision, JSON.stringify(d.manifests), JSON.stringify(d.options), now().toISOString());
  });
  const durably = <T>(fn: () => T): T => {
    // Durable before the acknowledgement: the server forgets what it sent once we ack, so the
    // commit must reach the disk (synchronous=FULL fsyncs the WAL at commit) before we return.
    // Inside a caller's transaction SQLite refuses the change; that caller's commit decides.
    if (db.inTransaction) return fn();
    const previous = db.pragma('synchronous', { simple: true }) as number;
    db.pragma('synchronous = FULL');
    try {
      return fn();
    } finally {
      db.pragma(`synchronous = ${previous}`);
    }
  };

  return {
    acceptDesired(d) {
      validateManifests(d.manifests);
      durably(() => write(d));
      return { deploymentId: d.id, revision: d.revision };
    },
    removeDesired: (id) => durably(() => markRemoved.run(now().toISOString(), id).changes > 0),
    removedDeployments: () => (allRemoved.all() as Row[]).map(decode),
    forget: db.transaction((id: string) => {
      forgetAll.forEach((stmt, i) => stmt.run(i === forgetAll.length - 1 ? `outbox.last.${id}` : id));
    }),
    latestStatuses: () => (statuses.all() as string[]).map((s) => JSON.parse(s) as DeploymentStatus),
    deployment(id) {
      const r = one.get(id) as Row | undefined;
      return r === undefined ? undefined : decode(r);
    },
    deployments: () => (all.all() as Row[]).map(decode),
    held: () => (held.all() as { id: string; revision: string; options: string }[]).map((r) => ({ deploymentId: r.id, revision: r.revision, options: JSON.parse(r.options) as DeploymentOptions })),
    applied(id) {
      const r = appliedRow.get(id) as { revision: string | null; applied_at: string | null; error: string | null; error_revision: string | null } | undefined;
      return { revision: r?.revision ?? undefined, appliedAt: r?.applied_at ?? undefined, error: r?.error ?? undefined, errorRevision: r?.error_revision ?? undefined };
    },
    recordError: (id, revision, error) => void setError.run(id, error, revision),
    inventory(id) {
      const rows = inv.all(id) as { grp: string; version: string; kind: string; namespace: string; name: string; uid: string }[];
      return rows.map((r) => ({ group: r.grp, version: r.version, kind: r.kind, namespace: r.namespace, name: r.name, uid: r.uid }));
    },
    updateUid: (id, e) => void setUid.run(e.uid, id, keyOf(e)),
    journal: createApplyJournal(db),
    outbox: createOutbox(db, opts.outboxMaxRows === undefined ? {} : { maxRows: opts.outboxMaxRows }),
  };
}
