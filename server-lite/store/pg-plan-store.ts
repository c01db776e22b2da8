// The plan records on PostgreSQL (decision 1110): the tables of migration 10 in the server's
// database, on the main store's pool, so every replica reads and writes the same plans. The
// statements are plans/sqlite-plan-store.ts's in PostgreSQL's spelling (GREATEST for MAX; a drain
// batch folded per plan before one upsert); the row mappers are shared (plans/plan-store.ts).
import { assignmentMap, nodeOf, planOf, stepsOf, type NewPlan, type NodeResult, type PlanAction, type PlanNodeRecord, type PlanRecord, type PlanStore, type StepRecord } from '../plans/plan-store.ts';
import type { PgDb } from './pg-db.ts';

export class PgPlanStore implements PlanStore {
  readonly shared = true;
  generation = 0;
  readonly #db: PgDb;

  constructor(db: PgDb) {
    this.#db = db;
  }

  /** The pool belongs to the main store, which closes it. */
  async close(): Promise<void> {}

  async putPlan(p: NewPlan, now: number): Promise<void> {
    this.generation++;
    await this.#db.run(
      `INSERT INTO plans (name, checksum, document, target, concurrency, max_failures, time_window, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, document = excluded.document, target = excluded.target,
         concurrency = excluded.concurrency, max_failures = excluded.max_failures, time_window = excluded.time_window, updated_at = excluded.updated_at,
         failure_base = 0, paused = 0, canceled = 0`,
      [p.name, p.checksum, JSON.stringify(p.document), p.target, p.concurrency, p.maxFailures, p.window, now, now],
    );
  }

  async plan(name: string): Promise<PlanRecord | undefined> {
    const r = await this.#db.one('SELECT * FROM plans WHERE name = ?', [name]);
    return r && planOf(r);
  }

  async plans(): Promise<PlanRecord[]> {
    return (await this.#db.rows('SELECT * FROM plans ORDER BY name')).map(planOf);
  }

  async control(name: string, action: PlanAction, failures: number, now: number): Promise<boolean> {
    this.generation++;
    if (action === 'pause') return (await this.#db.run('UPDATE plans SET paused = 1, updated_at = ? WHERE name = ?', [now, name])) === 1;
    if (action === 'resume') return (await this.#db.run('UPDATE plans SET paused = 0, failure_base = ?, updated_at = ? WHERE name = ?', [failures, now, name])) === 1;
    return (await this.#db.run('UPDATE plans SET canceled = 1, updated_at = ? WHERE name = ?', [now, name])) === 1;
  }

  async nodes(plan: string): Promise<PlanNodeRecord[]> {
    return (await this.#db.rows('SELECT * FROM plan_nodes WHERE plan = ? ORDER BY node_id', [plan])).map(nodeOf);
  }

  async nodePlans(nodeId: string): Promise<PlanNodeRecord[]> {
    return (await this.#db.rows('SELECT * FROM plan_nodes WHERE node_id = ? ORDER BY plan', [nodeId])).map(nodeOf);
  }

  async assignments(): Promise<Map<string, Map<string, string>>> {
    return assignmentMap(await this.#db.rows('SELECT n.node_id, n.plan, n.assigned FROM plan_nodes n JOIN plans p ON p.name = n.plan WHERE n.assigned = p.checksum'));
  }

  async assign(plan: string, nodeIds: readonly string[], checksum: string, now: number): Promise<void> {
    if (nodeIds.length === 0) return;
    this.generation++;
    // One statement for the whole batch (a plan to 5,000 nodes is one round trip).
    await this.#db.run(
      `INSERT INTO plan_nodes (plan, node_id, assigned, assigned_at) SELECT ?, unnest(?::text[]), ?, ?
       ON CONFLICT (plan, node_id) DO UPDATE SET assigned = excluded.assigned, assigned_at = excluded.assigned_at`,
      [plan, nodeIds, checksum, now],
    );
  }

  async lastSeq(agentId: string): Promise<number> {
    return Number((await this.#db.one('SELECT last_seq FROM plan_agent_seq WHERE agent_id = ?', [agentId]))?.last_seq ?? 0);
  }

  async recordResults(agentId: string, nodeId: string, rows: readonly { seq: number; result: NodeResult }[]): Promise<number> {
    const stored = await this.#db.tx(async (sql) => {
      // The agent's sequence row, locked: two deliveries of one outbox (a replica that lost the
      // tunnel and the one that has it now) store each row once.
      await sql.run('INSERT INTO plan_agent_seq (agent_id, last_seq) VALUES (?, 0) ON CONFLICT (agent_id) DO NOTHING', [agentId]);
      const last = Number((await sql.one('SELECT last_seq FROM plan_agent_seq WHERE agent_id = ? FOR UPDATE', [agentId]))?.last_seq ?? 0);
      const fresh = [...rows].sort((a, b) => a.seq - b.seq).filter((r) => r.seq > last);
      if (fresh.length === 0) return 0;
      // Folded here, in sequence order, into one row per plan (a drain batch is one round trip, not
      // one per result): the same outcome as applying them one by one — the latest result's fields,
      // steps merged while the checksum stays, one report per result.
      const plans = [...new Set(fresh.map((r) => r.result.plan))];
      type Acc = { checksum: string | null; steps: Record<string, StepRecord>; reports: number; r?: NodeResult };
      const acc = new Map<string, Acc>((await sql.rows('SELECT plan, checksum, steps, reports FROM plan_nodes WHERE node_id = ? AND plan = ANY(?::text[]) FOR UPDATE', [nodeId, plans]))
        .map((r) => [String(r.plan), { checksum: r.checksum === null ? null : String(r.checksum), steps: JSON.parse(String(r.steps)) as Record<string, StepRecord>, reports: Number(r.reports) }]));
      for (const { result: r } of fresh) {
        const prev = acc.get(r.plan);
        const steps = prev && prev.checksum === r.checksum ? { ...prev.steps, ...stepsOf(r) } : stepsOf(r);
        acc.set(r.plan, { checksum: r.checksum, steps, reports: (prev?.reports ?? 0) + 1, r });
      }
      const values = [...acc.values()].flatMap((v) => (v.r ? [{ r: v.r, steps: v.steps, reports: v.reports }] : []));
      await sql.run(
        `INSERT INTO plan_nodes (plan, node_id, state, checksum, source, instruction, exit_code, message, since, steps, reports) VALUES ${values.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (plan, node_id) DO UPDATE SET state = excluded.state, checksum = excluded.checksum, source = excluded.source,
           instruction = excluded.instruction, exit_code = excluded.exit_code, message = excluded.message, since = excluded.since,
           steps = excluded.steps, reports = excluded.reports`,
        values.flatMap(({ r, steps, reports }) => [r.plan, nodeId, r.state, r.checksum, r.source ?? null, r.instruction, r.exitCode, r.message, r.since, JSON.stringify(steps), reports]),
      );
      await sql.run('UPDATE plan_agent_seq SET last_seq = GREATEST(last_seq, ?) WHERE agent_id = ?', [fresh.at(-1)?.seq ?? last, agentId]);
      return fresh.length;
    });
    if (stored > 0) this.generation++;
    return stored;
  }

  async putClock(nodeId: string, utcOffsetMinutes: number, now: number): Promise<void> {
    await this.#db.run(
      `INSERT INTO plan_node_clocks (node_id, utc_offset_minutes, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (node_id) DO UPDATE SET utc_offset_minutes = excluded.utc_offset_minutes, updated_at = excluded.updated_at`,
      [nodeId, utcOffsetMinutes, now],
    );
  }

  async clocks(): Promise<Map<string, number>> {
    return new Map((await this.#db.rows('SELECT node_id, utc_offset_minutes FROM plan_node_clocks')).map((r) => [String(r.node_id), Number(r.utc_offset_minutes)]));
  }
}
