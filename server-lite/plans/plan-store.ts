// The server's plan records, in their own SQLite file in the data dir (`plans.db`, like fleet.db,
// decision 0910): plans with their rollout options, per node the checksum assigned and the latest
// result the node reported, and per agent the last outbox sequence stored, so a batch resent after
// a lost acknowledgement is counted once (exactly once, in order).
import Database from 'better-sqlite3';
import type { PlanState } from '../../protocol/index.ts';
import { preparePrivateDatabase } from '../store/private-file.ts';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE plans (
     name TEXT PRIMARY KEY,
     checksum TEXT NOT NULL,
     document TEXT NOT NULL,
     target TEXT NOT NULL,
     concurrency TEXT NOT NULL,
     max_failures INTEGER NOT NULL,
     failure_base INTEGER NOT NULL DEFAULT 0,
     window TEXT,
     paused INTEGER NOT NULL DEFAULT 0,
     canceled INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE plan_nodes (
     plan TEXT NOT NULL,
     node_id TEXT NOT NULL,
     assigned TEXT,
     assigned_at INTEGER,
     state TEXT,
     checksum TEXT,
     source TEXT,
     instruction TEXT,
     exit_code INTEGER,
     message TEXT,
     since TEXT,
     steps TEXT NOT NULL DEFAULT '{}',
     reports INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (plan, node_id)
   );
   CREATE INDEX plan_nodes_node ON plan_nodes (node_id);
   CREATE TABLE plan_agent_seq (agent_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);`,
];

export interface PlanRecord {
  name: string;
  checksum: string;
  document: unknown;
  target: string;
  concurrency: string;
  maxFailures: number;
  failureBase: number;
  window: string | null;
  paused: boolean;
  canceled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface PlanNodeRecord {
  plan: string;
  nodeId: string;
  assigned: string | null;
  state: PlanState | null;
  checksum: string | null;
  source: string | null;
  instruction: string | null;
  exitCode: number | null;
  message: string | null;
  since: string | null;
  /** Per step label: its exit code and the last 64 KiB of its output, from the latest run. */
  steps: Record<string, { exitCode: number | null; output: string; runs: number }>;
  /** Results stored for this plan and node (each outbox row counts once). */
  reports: number;
}

/** One row of a node's outbox (agents/node/plan-store.ts PlanResult), as the server reads it. */
export interface NodeResult {
  plan: string;
  checksum: string;
  source?: string;
  state: PlanState;
  instruction: string | null;
  exitCode: number | null;
  message: string;
  since: string;
  step?: { label: string; exitCode: number | null; output: string; runs: number } | undefined;
}

interface PlanRow { name: string; checksum: string; document: string; target: string; concurrency: string; max_failures: number; failure_base: number; window: string | null; paused: number; canceled: number; created_at: number; updated_at: number }
interface NodeRow { plan: string; node_id: string; assigned: string | null; state: PlanState | null; checksum: string | null; source: string | null; instruction: string | null; exit_code: number | null; message: string | null; since: string | null; steps: string; reports: number }

const planOf = (r: PlanRow): PlanRecord => ({
  name: r.name, checksum: r.checksum, document: JSON.parse(r.document) as unknown, target: r.target, concurrency: r.concurrency, maxFailures: r.max_failures,
  failureBase: r.failure_base, window: r.window, paused: r.paused === 1, canceled: r.canceled === 1, createdAt: r.created_at, updatedAt: r.updated_at,
});
const nodeOf = (r: NodeRow): PlanNodeRecord => ({
  plan: r.plan, nodeId: r.node_id, assigned: r.assigned, state: r.state, checksum: r.checksum, source: r.source, instruction: r.instruction,
  exitCode: r.exit_code, message: r.message, since: r.since, steps: JSON.parse(r.steps) as PlanNodeRecord['steps'], reports: r.reports,
});

export class PlanStore {
  readonly db: Database.Database;
  /** Changes with every write (callers cache what they derive from a read while it holds). */
  generation = 0;

  constructor(path: string) {
    preparePrivateDatabase(path);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // Results acknowledged to node agents must survive a crash: the agent drops them after the ack.
    this.db.pragma('synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS plan_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const current = (this.db.prepare('SELECT MAX(version) AS v FROM plan_migrations').get() as { v: number | null }).v ?? 0;
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v] ?? '');
        this.db.prepare('INSERT INTO plan_migrations (version, applied_at) VALUES (?, ?)').run(v + 1, Date.now());
      })();
    }
  }

  close(): void {
    this.db.close();
  }

  /** Creates or replaces a plan; a new checksum starts its rollout over (assignments stay until replaced). */
  putPlan(p: Omit<PlanRecord, 'createdAt' | 'updatedAt' | 'failureBase' | 'paused' | 'canceled'>, now: number): void {
    this.generation++;
    this.db.prepare(`INSERT INTO plans (name, checksum, document, target, concurrency, max_failures, window, created_at, updated_at)
        VALUES (@name, @checksum, @document, @target, @concurrency, @maxFailures, @window, @now, @now)
        ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, document = excluded.document, target = excluded.target,
          concurrency = excluded.concurrency, max_failures = excluded.max_failures, window = excluded.window, updated_at = excluded.updated_at,
          failure_base = 0, paused = 0, canceled = 0`)
      .run({ ...p, document: JSON.stringify(p.document), now });
  }

  plan(name: string): PlanRecord | undefined {
    const r = this.db.prepare('SELECT * FROM plans WHERE name = ?').get(name) as PlanRow | undefined;
    return r && planOf(r);
  }

  plans(): PlanRecord[] {
    return (this.db.prepare('SELECT * FROM plans ORDER BY name').all() as PlanRow[]).map(planOf);
  }

  /** pause / resume (resume also accepts the failures so far) / cancel; false when no such plan. */
  control(name: string, action: 'pause' | 'resume' | 'cancel', failures: number, now: number): boolean {
    this.generation++;
    const sql = action === 'pause' ? 'paused = 1' : action === 'resume' ? 'paused = 0, failure_base = @failures' : 'canceled = 1';
    return this.db.prepare(`UPDATE plans SET ${sql}, updated_at = @now WHERE name = @name`).run({ name, failures, now }).changes === 1;
  }

  nodes(plan: string): PlanNodeRecord[] {
    return (this.db.prepare('SELECT * FROM plan_nodes WHERE plan = ? ORDER BY node_id').all(plan) as NodeRow[]).map(nodeOf);
  }

  nodePlans(nodeId: string): PlanNodeRecord[] {
    return (this.db.prepare('SELECT * FROM plan_nodes WHERE node_id = ? ORDER BY plan').all(nodeId) as NodeRow[]).map(nodeOf);
  }

  /** Every assignment not yet delivered or still running, for the delivery loop: node → plan → checksum. */
  assignments(): Map<string, Map<string, string>> {
    const out = new Map<string, Map<string, string>>();
    const rows = this.db.prepare('SELECT n.node_id, n.plan, n.assigned FROM plan_nodes n JOIN plans p ON p.name = n.plan WHERE n.assigned = p.checksum').all() as { node_id: string; plan: string; assigned: string }[];
    for (const r of rows) {
      let m = out.get(r.node_id);
      if (!m) out.set(r.node_id, (m = new Map()));
      m.set(r.plan, r.assigned);
    }
    return out;
  }

  assign(plan: string, nodeIds: readonly string[], checksum: string, now: number): void {
    if (nodeIds.length === 0) return;
    this.generation++;
    const stmt = this.db.prepare(`INSERT INTO plan_nodes (plan, node_id, assigned, assigned_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (plan, node_id) DO UPDATE SET assigned = excluded.assigned, assigned_at = excluded.assigned_at`);
    this.db.transaction(() => {
      for (const id of nodeIds) stmt.run(plan, id, checksum, now);
    })();
  }

  lastSeq(agentId: string): number {
    return (this.db.prepare('SELECT last_seq FROM plan_agent_seq WHERE agent_id = ?').pluck().get(agentId) as number | undefined) ?? 0;
  }

  /**
   * Stores a node's results in sequence order, skipping rows at or below the last stored sequence
   * (a batch resent after a lost ack). Committed before the caller acknowledges. Returns rows stored.
   */
  recordResults(agentId: string, nodeId: string, rows: readonly { seq: number; result: NodeResult }[]): number {
    const upsert = this.db.prepare(`INSERT INTO plan_nodes (plan, node_id, state, checksum, source, instruction, exit_code, message, since, steps, reports)
        VALUES (@plan, @nodeId, @state, @checksum, @source, @instruction, @exitCode, @message, @since, @steps, 1)
        ON CONFLICT (plan, node_id) DO UPDATE SET state = excluded.state, checksum = excluded.checksum, source = excluded.source,
          instruction = excluded.instruction, exit_code = excluded.exit_code, message = excluded.message, since = excluded.since,
          steps = CASE WHEN plan_nodes.checksum IS excluded.checksum THEN json_patch(plan_nodes.steps, excluded.steps) ELSE excluded.steps END,
          reports = plan_nodes.reports + 1`);
    const setSeq = this.db.prepare('INSERT INTO plan_agent_seq (agent_id, last_seq) VALUES (?, ?) ON CONFLICT (agent_id) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)');
    return this.db.transaction(() => {
      const last = this.lastSeq(agentId);
      let stored = 0;
      let max = last;
      for (const { seq, result: r } of [...rows].sort((a, b) => a.seq - b.seq)) {
        if (seq <= last) continue;
        const steps = r.step ? { [r.step.label]: { exitCode: r.step.exitCode, output: r.step.output.slice(-64 * 1024), runs: r.step.runs } } : {};
        upsert.run({ plan: r.plan, nodeId, state: r.state, checksum: r.checksum, source: r.source ?? null, instruction: r.instruction, exitCode: r.exitCode, message: r.message, since: r.since, steps: JSON.stringify(steps) });
        stored++;
        max = Math.max(max, seq);
      }
      setSeq.run(agentId, max);
      if (stored > 0) this.generation++;
      return stored;
    })();
  }
}
