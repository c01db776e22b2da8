// The server's plan records (decision 0910; on PostgreSQL since decision 1110): plans with their
// rollout options, per node the checksum assigned and the latest result the node reported, per
// agent the last outbox sequence stored (a batch resent after a lost acknowledgement is counted
// once, in order), and per node its clock (maintenance windows). One async interface, two
// implementations: `sqlite-plan-store.ts` (the data dir's own `plans.db`) and
// `store/pg-plan-store.ts` (the server's PostgreSQL database, shared by the replicas).
import type { PlanState } from '../../protocol/index.ts';

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

export type StepRecord = { exitCode: number | null; output: string; runs: number };

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
  steps: Record<string, StepRecord>;
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

export type NewPlan = Omit<PlanRecord, 'createdAt' | 'updatedAt' | 'failureBase' | 'paused' | 'canceled'>;
export type PlanAction = 'pause' | 'resume' | 'cancel';

export interface PlanStore {
  /** Changes with every write through this handle (callers cache what they derive while it holds). */
  readonly generation: number;
  /** Other processes (replicas) write the same records: what is derived from them must be re-read. */
  readonly shared: boolean;
  /** Creates or replaces a plan; a new checksum starts its rollout over (assignments stay until replaced). */
  putPlan(p: NewPlan, now: number): Promise<void>;
  plan(name: string): Promise<PlanRecord | undefined>;
  plans(): Promise<PlanRecord[]>;
  /** pause / resume (resume also accepts the failures so far) / cancel; false when no such plan. */
  control(name: string, action: PlanAction, failures: number, now: number): Promise<boolean>;
  nodes(plan: string): Promise<PlanNodeRecord[]>;
  nodePlans(nodeId: string): Promise<PlanNodeRecord[]>;
  /** Every assignment of a plan's current checksum, for the delivery loop: node → plan → checksum. */
  assignments(): Promise<Map<string, Map<string, string>>>;
  assign(plan: string, nodeIds: readonly string[], checksum: string, now: number): Promise<void>;
  lastSeq(agentId: string): Promise<number>;
  /**
   * Stores a node's results in sequence order, skipping rows at or below the last stored sequence
   * (a batch resent after a lost ack). Committed before it resolves (the caller then acknowledges).
   * Returns the rows stored.
   */
  recordResults(agentId: string, nodeId: string, rows: readonly { seq: number; result: NodeResult }[]): Promise<number>;
  /** A node's UTC offset as its agent reported it (read by whichever replica schedules). */
  putClock(nodeId: string, utcOffsetMinutes: number, now: number): Promise<void>;
  clocks(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

type Row = Record<string, unknown>;
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Row mappers shared by both stores (PostgreSQL's BIGINT comes back as text; its window column is `time_window`). */
export const planOf = (r: Row): PlanRecord => ({
  name: String(r.name), checksum: String(r.checksum), document: JSON.parse(String(r.document)) as unknown, target: String(r.target), concurrency: String(r.concurrency),
  maxFailures: Number(r.max_failures), failureBase: Number(r.failure_base), window: str(r.window !== undefined ? r.window : r.time_window),
  paused: Number(r.paused) === 1, canceled: Number(r.canceled) === 1, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});

export const nodeOf = (r: Row): PlanNodeRecord => {
  const raw = JSON.parse(String(r.steps)) as Record<string, Partial<StepRecord>>;
  // SQLite's json_patch drops null members when it merges: a step's exit code reads null either way.
  const steps = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, { exitCode: v.exitCode ?? null, output: v.output ?? '', runs: v.runs ?? 0 }]));
  return {
    plan: String(r.plan), nodeId: String(r.node_id), assigned: str(r.assigned), state: str(r.state) as PlanState | null, checksum: str(r.checksum), source: str(r.source),
    instruction: str(r.instruction), exitCode: num(r.exit_code), message: str(r.message), since: str(r.since), steps, reports: Number(r.reports),
  };
};

/** The step of one result as stored: the last 64 KiB of its output. */
export function stepsOf(r: NodeResult): Record<string, StepRecord> {
  return r.step ? { [r.step.label]: { exitCode: r.step.exitCode, output: r.step.output.slice(-64 * 1024), runs: r.step.runs } } : {};
}

/** Groups assignment rows as the delivery loop reads them: node → plan → checksum. */
export function assignmentMap(rows: readonly Row[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const r of rows) {
    const node = String(r.node_id);
    let m = out.get(node);
    if (!m) out.set(node, (m = new Map()));
    m.set(String(r.plan), String(r.assigned));
  }
  return out;
}
