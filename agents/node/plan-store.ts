// The node agent's plan tables (node-migrations.ts) behind a few methods the executor calls.
// Every method that moves a run on also queues the plan's new result in the outbox in the same
// transaction, so what the server hears is exactly the sequence of states the disk went through.
// The agent's connection runs with synchronous=FULL (agents/common/store.ts): each commit here is
// on disk before the side effect it announces starts.
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Plan, PlanState } from '../../protocol/index.ts';
import { createSeqOutbox, type SeqOutbox } from '../common/outbox.ts';
import { migrateNodeTables } from './node-migrations.ts';
import type { Phase, Progress, RollbackCause } from './plan-machine.ts';

export type PlanSource = 'server' | 'local';

/** What the node reports for a plan (one outbox row per change; the server keeps the latest). */
export interface PlanResult {
  plan: string;
  checksum: string;
  source: PlanSource;
  state: PlanState;
  /** The step running or last run ("instruction install", "file /etc/x", "probes"). */
  instruction: string | null;
  exitCode: number | null;
  message: string;
  since: string;
  /** Set on the row written when a step finished: its exit code and the last 64 KiB of its output. */
  step?: { phase: Phase; index: number; label: string; exitCode: number | null; output: string; runs: number } | undefined;
}

export interface PlanRow extends Progress {
  name: string;
  checksum: string;
  plan: Plan;
  source: PlanSource;
  instruction: string | null;
  exitCode: number | null;
  message: string;
  receivedAt: string;
  since: string;
}

interface Row {
  name: string; checksum: string; plan: string; source: PlanSource; state: PlanState; phase: Phase; step: number;
  step_started: number; cancel_requested: number; rollback_cause: RollbackCause | null; instruction: string | null;
  exit_code: number | null; message: string; received_at: string; since: string;
}

const toRow = (r: Row): PlanRow => ({
  name: r.name, checksum: r.checksum, plan: JSON.parse(r.plan) as Plan, source: r.source, state: r.state, phase: r.phase,
  step: r.step, stepStarted: r.step_started === 1, cancelRequested: r.cancel_requested === 1, rollbackCause: r.rollback_cause,
  instruction: r.instruction, exitCode: r.exit_code, message: r.message, receivedAt: r.received_at, since: r.since,
});

export type AcceptOutcome = { accepted: true; state: PlanState } | { accepted: false; reason: string };

export const NODE_OUTBOX_MAX_ROWS = 10_000;

export function createPlanStore(db: Database, now: () => Date = () => new Date()) {
  migrateNodeTables(db, now);
  const outbox: SeqOutbox = createSeqOutbox(db, { table: 'node_outbox', keyColumn: 'plan', bodyColumn: 'result', extraColumns: [], metaTable: 'node_meta', maxRows: NODE_OUTBOX_MAX_ROWS });
  const one = db.prepare('SELECT * FROM node_plans WHERE name = ?');
  const all = db.prepare('SELECT * FROM node_plans ORDER BY received_at, name');
  const next = db.prepare(`SELECT * FROM node_plans WHERE state IN ('InProgress', 'Pending') ORDER BY state = 'Pending', received_at, name LIMIT 1`);
  const upsert = db.prepare(`INSERT INTO node_plans (name, checksum, plan, source, state, received_at, since, message)
      VALUES (@name, @checksum, @plan, @source, 'Pending', @now, @now, 'received')
      ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, plan = excluded.plan, source = excluded.source, state = 'Pending',
        phase = 'apply', step = 0, step_started = 0, cancel_requested = 0, rollback_cause = NULL, instruction = NULL, exit_code = NULL,
        message = 'received', received_at = excluded.received_at, started_at = NULL, since = excluded.since`);
  const update = db.prepare(`UPDATE node_plans SET state = @state, phase = @phase, step = @step, step_started = @stepStarted,
      rollback_cause = @rollbackCause, instruction = @instruction, exit_code = @exitCode, message = @message,
      since = CASE WHEN state = @state THEN since ELSE @now END, started_at = COALESCE(started_at, CASE WHEN @state = 'InProgress' THEN @now END)
      WHERE name = @name AND checksum = @checksum`);
  const stepStart = db.prepare(`INSERT INTO node_plan_steps (name, checksum, phase, step, label, runs, started_at) VALUES (?, ?, ?, ?, ?, 1, ?)
      ON CONFLICT (name, checksum, phase, step) DO UPDATE SET runs = runs + 1, started_at = excluded.started_at, finished_at = NULL`);
  const stepEnd = db.prepare('UPDATE node_plan_steps SET finished_at = ?, exit_code = ?, output = ? WHERE name = ? AND checksum = ? AND phase = ? AND step = ?');
  const stepRuns = db.prepare('SELECT runs FROM node_plan_steps WHERE name = ? AND checksum = ? AND phase = ? AND step = ?').pluck();
  const history = db.prepare('INSERT INTO node_plan_history (name, checksum, source, state, message, started_at, finished_at) SELECT name, checksum, source, state, message, started_at, ? FROM node_plans WHERE name = ?');
  const cancel = db.prepare(`UPDATE node_plans SET cancel_requested = 1 WHERE name = ? AND state IN ('Pending', 'InProgress', 'Paused')`);
  const backupGet = db.prepare('SELECT existed, backup FROM node_file_backups WHERE name = ? AND checksum = ? AND path = ?');
  const backupPut = db.prepare('INSERT OR IGNORE INTO node_file_backups (name, checksum, seq, path, existed, backup) VALUES (?, ?, (SELECT COUNT(*) FROM node_file_backups WHERE name = ? AND checksum = ?), ?, ?, ?)');
  const backupList = db.prepare('SELECT path, existed, backup FROM node_file_backups WHERE name = ? AND checksum = ? ORDER BY seq DESC');
  const periodicPut = db.prepare(`INSERT INTO node_periodic (name, instruction, checksum, last_run, exit_code, output) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (name, instruction) DO UPDATE SET checksum = excluded.checksum, last_run = excluded.last_run, exit_code = excluded.exit_code, output = excluded.output`);

  const get = (name: string): PlanRow | undefined => {
    const r = one.get(name) as Row | undefined;
    return r && toRow(r);
  };
  const queue = (r: PlanRow, step?: PlanResult['step']): void => {
    const result: PlanResult = { plan: r.name, checksum: r.checksum, source: r.source, state: r.state, instruction: r.instruction, exitCode: r.exitCode, message: r.message, since: r.since, ...(step ? { step } : {}) };
    const body = JSON.stringify(result);
    outbox.enqueue({ key: r.name, fingerprint: createHash('sha256').update(body).digest('hex').slice(0, 32), body }, now());
  };
  const save = (r: PlanRow): void => {
    update.run({ name: r.name, checksum: r.checksum, state: r.state, phase: r.phase, step: r.step, stepStarted: r.stepStarted ? 1 : 0, rollbackCause: r.rollbackCause, instruction: r.instruction, exitCode: r.exitCode, message: r.message.slice(0, 4096), now: now().toISOString() });
  };

  return {
    outbox,
    get,
    list: (): PlanRow[] => (all.all() as Row[]).map(toRow),
    /** The run to continue (InProgress) or start (the oldest Pending), if any. */
    next: (): PlanRow | undefined => {
      const r = next.get() as Row | undefined;
      return r && toRow(r);
    },
    /** Stores a delivered or local plan as Pending; a plan running under another checksum is not replaced. */
    accept: db.transaction((name: string, checksum: string, plan: Plan, source: PlanSource): AcceptOutcome => {
      const cur = get(name);
      if (cur && cur.checksum === checksum) return { accepted: true, state: cur.state };
      if (cur && cur.state === 'InProgress') return { accepted: false, reason: `plan ${name} is running checksum ${cur.checksum.slice(0, 12)}; try again when it has finished` };
      upsert.run({ name, checksum, plan: JSON.stringify(plan), source, now: now().toISOString() });
      const row = get(name)!;
      queue(row);
      return { accepted: true, state: row.state };
    }),
    /** Moves the run on (state, phase, step) and reports it. */
    save: db.transaction((r: PlanRow): PlanRow => {
      save(r);
      const saved = get(r.name)!;
      queue(saved);
      return saved;
    }),
    /** Marks a step started, before its side effect; returns how many times it has been started. */
    startStep: db.transaction((r: PlanRow, label: string): { row: PlanRow; runs: number } => {
      stepStart.run(r.name, r.checksum, r.phase, r.step, label, now().toISOString());
      save({ ...r, stepStarted: true, instruction: label, exitCode: null });
      const row = get(r.name)!;
      queue(row);
      return { row, runs: stepRuns.get(r.name, r.checksum, r.phase, r.step) as number };
    }),
    /** Records a finished step and the progress after it, in one transaction. */
    finishStep: db.transaction((before: PlanRow, after: PlanRow, label: string, exitCode: number | null, output: string): PlanRow => {
      stepEnd.run(now().toISOString(), exitCode, output, before.name, before.checksum, before.phase, before.step);
      save(after);
      const row = get(after.name)!;
      queue(row, { phase: before.phase, index: before.step, label, exitCode, output, runs: stepRuns.get(before.name, before.checksum, before.phase, before.step) as number });
      return row;
    }),
    /** A terminal state (or Paused): history row, report. */
    finish: db.transaction((r: PlanRow, state: PlanState, message: string): PlanRow => {
      save({ ...r, state, stepStarted: false, message });
      if (state !== 'Paused') history.run(now().toISOString(), r.name);
      const row = get(r.name)!;
      queue(row);
      return row;
    }),
    requestCancel: (name: string): boolean => cancel.run(name).changes > 0,
    backup: (name: string, checksum: string, path: string): { existed: boolean; backup: string | null } | undefined => {
      const b = backupGet.get(name, checksum, path) as { existed: number; backup: string | null } | undefined;
      return b && { existed: b.existed === 1, backup: b.backup };
    },
    recordBackup: (name: string, checksum: string, path: string, existed: boolean, backup: string | null): void => void backupPut.run(name, checksum, name, checksum, path, existed ? 1 : 0, backup),
    /** Backups of a run, newest first (the order to restore in). */
    backups: (name: string, checksum: string): { path: string; existed: boolean; backup: string | null }[] =>
      (backupList.all(name, checksum) as { path: string; existed: number; backup: string | null }[]).map((b) => ({ path: b.path, existed: b.existed === 1, backup: b.backup })),
    history: (): { name: string; checksum: string; state: string; message: string; finishedAt: string }[] =>
      db.prepare('SELECT name, checksum, state, message, finished_at AS finishedAt FROM node_plan_history ORDER BY id').all() as { name: string; checksum: string; state: string; message: string; finishedAt: string }[],
    stepRuns: (name: string, checksum: string): { phase: string; step: number; label: string; runs: number; exitCode: number | null }[] =>
      db.prepare('SELECT phase, step, label, runs, exit_code AS exitCode FROM node_plan_steps WHERE name = ? AND checksum = ? ORDER BY phase, step').all(name, checksum) as { phase: string; step: number; label: string; runs: number; exitCode: number | null }[],
    recordPeriodic: (name: string, instruction: string, checksum: string, exitCode: number | null, output: string): void =>
      void periodicPut.run(name, instruction, checksum, now().toISOString(), exitCode, output),
    periodic: (): { name: string; instruction: string; lastRun: string; exitCode: number | null; output: string }[] =>
      db.prepare('SELECT name, instruction, last_run AS lastRun, exit_code AS exitCode, output FROM node_periodic ORDER BY name, instruction').all() as { name: string; instruction: string; lastRun: string; exitCode: number | null; output: string }[],
  };
}

export type PlanStore = ReturnType<typeof createPlanStore>;
