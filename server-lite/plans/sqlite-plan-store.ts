// The plan records in their own SQLite file in the data dir (`plans.db`, like fleet.db, decision
// 0910): the single-server store. Synchronous better-sqlite3 behind the async PlanStore interface;
// results of nodes draining within a few ms share one commit (the fleet's group commit).
import Database from 'better-sqlite3';
import { preparePrivateDatabase } from '../store/private-file.ts';
import { GroupCommit } from '../fleet/group-commit.ts';
import { planTables } from './plan-schema.ts';
import { assignmentMap, nodeOf, planOf, stepsOf, type NewPlan, type NodeResult, type PlanAction, type PlanNodeRecord, type PlanRecord, type PlanStore } from './plan-store.ts';

const MIGRATIONS: readonly string[] = [planTables('window')];

/** Results submitted within this long share one transaction. */
const RESULT_FLUSH_MS = 5;

type Row = Record<string, unknown>;
type Results = { agentId: string; nodeId: string; rows: readonly { seq: number; result: NodeResult }[] };

export class SqlitePlanStore implements PlanStore {
  readonly db: Database.Database;
  readonly shared = false;
  generation = 0;
  /** Clocks live as long as the process (the node reports its clock again on every connect). */
  readonly #clocks = new Map<string, number>();
  readonly #results: GroupCommit<Results, number>;

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
    this.#results = new GroupCommit(this.db, RESULT_FLUSH_MS, (d) => this.#record(d.agentId, d.nodeId, d.rows));
  }

  async close(): Promise<void> {
    this.#results.flush();
    this.db.close();
  }

  async putPlan(p: NewPlan, now: number): Promise<void> {
    this.generation++;
    this.db.prepare(`INSERT INTO plans (name, checksum, document, target, concurrency, max_failures, window, created_at, updated_at)
        VALUES (@name, @checksum, @document, @target, @concurrency, @maxFailures, @window, @now, @now)
        ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, document = excluded.document, target = excluded.target,
          concurrency = excluded.concurrency, max_failures = excluded.max_failures, window = excluded.window, updated_at = excluded.updated_at,
          failure_base = 0, paused = 0, canceled = 0`)
      .run({ name: p.name, checksum: p.checksum, target: p.target, concurrency: p.concurrency, maxFailures: p.maxFailures, window: p.window, document: JSON.stringify(p.document), now });
  }

  async plan(name: string): Promise<PlanRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM plans WHERE name = ?').get(name) as Row | undefined;
    return r && planOf(r);
  }

  async plans(): Promise<PlanRecord[]> {
    return (this.db.prepare('SELECT * FROM plans ORDER BY name').all() as Row[]).map(planOf);
  }

  async control(name: string, action: PlanAction, failures: number, now: number): Promise<boolean> {
    this.generation++;
    const sql = action === 'pause' ? 'paused = 1' : action === 'resume' ? 'paused = 0, failure_base = @failures' : 'canceled = 1';
    return this.db.prepare(`UPDATE plans SET ${sql}, updated_at = @now WHERE name = @name`).run({ name, failures, now }).changes === 1;
  }

  async nodes(plan: string): Promise<PlanNodeRecord[]> {
    return (this.db.prepare('SELECT * FROM plan_nodes WHERE plan = ? ORDER BY node_id').all(plan) as Row[]).map(nodeOf);
  }

  async nodePlans(nodeId: string): Promise<PlanNodeRecord[]> {
    return (this.db.prepare('SELECT * FROM plan_nodes WHERE node_id = ? ORDER BY plan').all(nodeId) as Row[]).map(nodeOf);
  }

  async assignments(): Promise<Map<string, Map<string, string>>> {
    return assignmentMap(this.db.prepare('SELECT n.node_id, n.plan, n.assigned FROM plan_nodes n JOIN plans p ON p.name = n.plan WHERE n.assigned = p.checksum').all() as Row[]);
  }

  async assign(plan: string, nodeIds: readonly string[], checksum: string, now: number): Promise<void> {
    if (nodeIds.length === 0) return;
    this.generation++;
    const stmt = this.db.prepare(`INSERT INTO plan_nodes (plan, node_id, assigned, assigned_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (plan, node_id) DO UPDATE SET assigned = excluded.assigned, assigned_at = excluded.assigned_at`);
    this.db.transaction(() => {
      for (const id of nodeIds) stmt.run(plan, id, checksum, now);
    })();
  }

  #lastSeq(agentId: string): number {
    return (this.db.prepare('SELECT last_seq FROM plan_agent_seq WHERE agent_id = ?').pluck().get(agentId) as number | undefined) ?? 0;
  }

  async lastSeq(agentId: string): Promise<number> {
    return this.#lastSeq(agentId);
  }

  recordResults(agentId: string, nodeId: string, rows: readonly { seq: number; result: NodeResult }[]): Promise<number> {
    return this.#results.submit({ agentId, nodeId, rows });
  }

  /** Runs inside the group commit's transaction. */
  #record(agentId: string, nodeId: string, rows: readonly { seq: number; result: NodeResult }[]): number {
    const upsert = this.db.prepare(`INSERT INTO plan_nodes (plan, node_id, state, checksum, source, instruction, exit_code, message, since, steps, reports)
        VALUES (@plan, @nodeId, @state, @checksum, @source, @instruction, @exitCode, @message, @since, @steps, 1)
        ON CONFLICT (plan, node_id) DO UPDATE SET state = excluded.state, checksum = excluded.checksum, source = excluded.source,
          instruction = excluded.instruction, exit_code = excluded.exit_code, message = excluded.message, since = excluded.since,
          steps = CASE WHEN plan_nodes.checksum IS excluded.checksum THEN json_patch(plan_nodes.steps, excluded.steps) ELSE excluded.steps END,
          reports = plan_nodes.reports + 1`);
    const setSeq = this.db.prepare('INSERT INTO plan_agent_seq (agent_id, last_seq) VALUES (?, ?) ON CONFLICT (agent_id) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)');
    return this.db.transaction(() => {
      const last = this.#lastSeq(agentId);
      let stored = 0;
      let max = last;
      for (const { seq, result: r } of [...rows].sort((a, b) => a.seq - b.seq)) {
        if (seq <= last) continue;
        upsert.run({ plan: r.plan, nodeId, state: r.state, checksum: r.checksum, source: r.source ?? null, instruction: r.instruction, exitCode: r.exitCode, message: r.message, since: r.since, steps: JSON.stringify(stepsOf(r)) });
        stored++;
        max = Math.max(max, seq);
      }
      setSeq.run(agentId, max);
      if (stored > 0) this.generation++;
      return stored;
    })();
  }

  async putClock(nodeId: string, utcOffsetMinutes: number): Promise<void> {
    this.#clocks.set(nodeId, utcOffsetMinutes);
  }

  async clocks(): Promise<Map<string, number>> {
    return new Map(this.#clocks);
  }
}
