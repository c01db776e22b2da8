// Delivery to node agents, the way the fleet delivers (decision 0750): for each connected node
// tunnel the server opens streams to the agent's `http:drover-plans` target. On a new session it
// reads the resume point (the plans the node holds, and its clock for maintenance windows), then
// puts only the plans assigned to that node whose checksum it does not hold, asks nodes to cancel
// canceled plans, and drains the node's results outbox in sequence order, storing rows
// de-duplicated by (agent, seq) before acknowledging them. Cheap when nothing changed: no stream.
import type { Logger } from 'pino';
import { NODE_PLAN_TARGET, TERMINAL_PLAN_STATES, type PlanState, type TunnelStream } from '../../protocol/index.ts';
import { agentCall, type AgentAnswer } from '../tunnel/agent-call.ts';
import type { NodeResult } from './plan-store.ts';
import type { PlanService } from './plan-service.ts';

export interface NodeSession {
  /** Unique per connection. */
  id: string;
  agentId: string;
  nodeId: string;
  openStream(target: string, metadata?: Record<string, string>): TunnelStream;
}

export const PLAN_SYNC_LIMITS = Object.freeze({
  intervalMs: 1000,
  /** After a delivery or reconnect the outbox is drained every cycle for this long, else every idleDrainMs. */
  hotMs: 60_000,
  idleDrainMs: 10_000,
  /** …or this long for a node whose resume point lists `outbox-signal`: it announces its results
   *  (decision 1041), so this is only the safety net. */
  signalledIdleDrainMs: 10 * 60_000,
  drainBatch: 200,
  concurrency: 64,
  requestTimeoutMs: 30_000,
  maxAnswerBytes: 64 * 1024 * 1024,
  /** A session whose requests fail waits this long before the next try (doubling to the cap). */
  failBackoffMs: 1000,
  failBackoffCapMs: 30_000,
});

interface Held { checksum: string; state: PlanState }

function request(s: NodeSession, method: string, path: string, body?: unknown): Promise<AgentAnswer> {
  return agentCall((t, m) => s.openStream(t, m), NODE_PLAN_TARGET, method, path, body, { timeoutMs: PLAN_SYNC_LIMITS.requestTimeoutMs, maxAnswerBytes: PLAN_SYNC_LIMITS.maxAnswerBytes });
}

export class PlanSync {
  readonly #service: PlanService;
  readonly #sessions: () => NodeSession[];
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #held = new Map<string, Map<string, Held>>();
  readonly #busy = new Set<string>();
  readonly #hotUntil = new Map<string, number>();
  readonly #drainedAt = new Map<string, number>();
  /** Sessions whose node announces queued results. */
  readonly #signals = new Set<string>();
  readonly #failing = new Map<string, { failures: number; until: number }>();
  readonly #cancelSent = new Set<string>();
  /** Plan bodies serialised once per checksum (one plan to 5,000 nodes). */
  readonly #bodies = new Map<string, Buffer>();
  #online = new Set<string>();
  #planned = -1;
  #resultsChanged = false;
  #timer: NodeJS.Timeout | undefined;
  #cycle: Promise<void> | undefined;
  #again = false;
  /**
   * Whether this replica decides the rollouts (replan). Delivery to the node tunnels held here runs
   * on every replica; deciding is global and runs on the holder of the plan-scheduling lease
   * (plan-singletons.ts). A single server always schedules.
   */
  scheduling = true;
  /** Results stored, deliveries made (tests, bench). */
  stored = 0;
  deliveries = 0;

  constructor(service: PlanService, sessions: () => NodeSession[], log: Logger, intervalMs?: number) {
    this.#service = service;
    this.#sessions = sessions;
    this.#log = log.child({ component: 'plans' });
    this.#intervalMs = intervalMs ?? PLAN_SYNC_LIMITS.intervalMs;
  }

  start(): void {
    this.#timer = setInterval(() => void this.syncAll(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops the cycle timer and waits for a cycle in flight (the store closes after). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#again = false;
    await this.#cycle;
  }

  kick(): void {
    setImmediate(() => void this.syncAll());
  }

  /** Nodes whose node agent is connected to this replica. */
  online(): ReadonlySet<string> {
    return new Set(this.#sessions().map((s) => s.nodeId));
  }

  /** Starts or stops deciding rollouts here (the plan-scheduling lease); the next cycle follows. */
  setScheduling(on: boolean): void {
    this.scheduling = on;
    this.#planned = -1;
    if (!on) this.#service.forgetDecisions();
    else this.kick();
  }

  /** One cycle at a time; a kick during a cycle runs one more after it. */
  syncAll(): Promise<void> {
    if (this.#cycle) {
      this.#again = true;
      return this.#cycle;
    }
    this.#cycle = (async () => {
      // Yield first: a run that finds nothing to do must not clear the handle before it is set.
      await null;
      try {
        do {
          this.#again = false;
          await this.#syncAll();
        } while (this.#again);
      } catch (err) {
        this.#log.error({ err: (err as Error).message }, 'plan sync cycle failed');
      } finally {
        this.#cycle = undefined;
      }
    })();
    return this.#cycle;
  }

  async #syncAll(): Promise<void> {
    const sessions = this.#sessions();
    const live = new Set(sessions.map((s) => s.id));
    for (const m of [this.#held, this.#hotUntil, this.#drainedAt, this.#failing]) for (const id of m.keys()) if (!live.has(id)) m.delete(id);
    for (const id of this.#signals) if (!live.has(id)) this.#signals.delete(id);
    for (const k of this.#cancelSent) if (!live.has(k.slice(0, k.indexOf('/')))) this.#cancelSent.delete(k);
    const store = this.#service.store;
    if (this.scheduling) {
      const online = await this.#service.online();
      const onlineChanged = online.size !== this.#online.size || [...online].some((n) => !this.#online.has(n));
      // A shared store changes under us (plans applied and results stored through other replicas):
      // the scheduler decides again every cycle there.
      if (store.shared || onlineChanged || this.#resultsChanged || this.#planned !== store.generation) {
        this.#resultsChanged = false;
        this.#online = online;
        await this.#service.replan(online, await this.#service.clocks());
        this.#planned = store.generation;
      }
    }
    if (sessions.length === 0) return;
    const assignments = await store.assignments();
    const canceled = (await store.plans()).filter((p) => p.canceled).map((p) => [p.name, p.checksum] as const);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < sessions.length) {
        const s = sessions[next++];
        if (s) await this.#sync(s, assignments.get(s.nodeId), canceled);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PLAN_SYNC_LIMITS.concurrency, sessions.length) }, worker));
  }

  async #body(plan: string, checksum: string): Promise<Buffer> {
    const key = `${plan}\n${checksum}`;
    let b = this.#bodies.get(key);
    if (!b) {
      const rec = await this.#service.store.plan(plan);
      b = Buffer.from(JSON.stringify({ checksum, document: rec?.document }));
      if (this.#bodies.size > 64) this.#bodies.clear();
      this.#bodies.set(key, b);
    }
    return b;
  }

  async #sync(s: NodeSession, assigned: ReadonlyMap<string, string> | undefined, canceled: readonly (readonly [string, string])[]): Promise<void> {
    const now = Date.now();
    if (this.#busy.has(s.id)) return;
    const failing = this.#failing.get(s.id);
    if (failing && now < failing.until) return;
    this.#busy.add(s.id);
    const log = this.#log.child({ nodeId: s.nodeId, agentId: s.agentId });
    try {
      let held = this.#held.get(s.id);
      if (!held) {
        const a = await request(s, 'GET', '/v1/node/resume');
        if (a.status !== 200) throw new Error(`resume answered ${a.status}: ${JSON.stringify(a.json).slice(0, 200)}`);
        const body = a.json as { plans: { name: string; checksum: string; state: PlanState }[]; clock?: { utcOffsetMinutes?: number }; features?: unknown };
        if (Array.isArray(body.features) && body.features.includes('outbox-signal')) this.#signals.add(s.id);
        held = new Map(body.plans.map((p) => [p.name, { checksum: p.checksum, state: p.state }]));
        this.#held.set(s.id, held);
        if (typeof body.clock?.utcOffsetMinutes === 'number') await this.#service.store.putClock(s.nodeId, body.clock.utcOffsetMinutes, Date.now());
        this.#hotUntil.set(s.id, now + PLAN_SYNC_LIMITS.hotMs);
        // The node's clock can open a maintenance window: decide again with it.
        this.#resultsChanged = true;
      }
      for (const [plan, checksum] of assigned ?? []) {
        if (held.get(plan)?.checksum === checksum) continue;
        const a = await request(s, 'PUT', `/v1/node/plans/${encodeURIComponent(plan)}`, await this.#body(plan, checksum));
        if (a.status === 200) {
          held.set(plan, { checksum, state: (a.json as { state: PlanState }).state });
          this.deliveries++;
          this.#hotUntil.set(s.id, Date.now() + PLAN_SYNC_LIMITS.hotMs);
          log.debug({ plan, checksum: checksum.slice(0, 12) }, 'plan delivered');
        } else if (a.status === 409) {
          log.debug({ plan, answer: a.json }, 'node busy with another version of the plan; retrying');
        } else {
          log.warn({ plan, status: a.status, answer: a.json }, 'node refused the plan');
        }
      }
      for (const [plan, checksum] of canceled) {
        const h = held.get(plan);
        const key = `${s.id}/${plan}/${checksum}`;
        if (h?.checksum !== checksum || TERMINAL_PLAN_STATES.has(h.state) || this.#cancelSent.has(key)) continue;
        const a = await request(s, 'POST', `/v1/node/plans/${encodeURIComponent(plan)}/cancel`);
        if (a.status === 200) this.#cancelSent.add(key);
      }
      const hot = (this.#hotUntil.get(s.id) ?? 0) > now;
      if (hot || now - (this.#drainedAt.get(s.id) ?? 0) >= (this.#signals.has(s.id) ? PLAN_SYNC_LIMITS.signalledIdleDrainMs : PLAN_SYNC_LIMITS.idleDrainMs)) await this.#drain(s, held);
      this.#failing.delete(s.id);
    } catch (err) {
      const failures = (this.#failing.get(s.id)?.failures ?? 0) + 1;
      const wait = Math.min(PLAN_SYNC_LIMITS.failBackoffCapMs, PLAN_SYNC_LIMITS.failBackoffMs * 2 ** (failures - 1));
      this.#failing.set(s.id, { failures, until: Date.now() + wait });
      (failures === 1 ? log.warn.bind(log) : log.debug.bind(log))({ err: (err as Error).message, retryInMs: wait }, 'plan sync with node failed');
    } finally {
      this.#busy.delete(s.id);
    }
  }

  /** The node said results are queued: drain its outbox at the next cycle. */
  drainSoon(sessionId: string): void {
    this.#drainedAt.delete(sessionId);
  }

  async #drain(s: NodeSession, held: Map<string, Held>): Promise<void> {
    for (;;) {
      this.#drainedAt.set(s.id, Date.now());
      const a = await request(s, 'GET', `/v1/node/outbox?limit=${PLAN_SYNC_LIMITS.drainBatch}`);
      if (a.status !== 200) throw new Error(`outbox answered ${a.status}`);
      const rows = (a.json as { rows: { seq: number; result: NodeResult }[] }).rows;
      if (rows.length === 0) return;
      // Committed before the ack: the node drops rows once acknowledged.
      const stored = await this.#service.store.recordResults(s.agentId, s.nodeId, rows);
      this.stored += stored;
      for (const { result } of rows) {
        const h = held.get(result.plan);
        if (!h || h.checksum === result.checksum) held.set(result.plan, { checksum: result.checksum, state: result.state });
      }
      if (stored > 0) {
        this.#resultsChanged = true;
        this.#hotUntil.set(s.id, Date.now() + PLAN_SYNC_LIMITS.hotMs);
      }
      const last = rows[rows.length - 1]?.seq ?? 0;
      const ack = await request(s, 'POST', '/v1/node/outbox/ack', { seq: last });
      if (ack.status !== 200) throw new Error(`outbox ack answered ${ack.status}`);
      if (rows.length < PLAN_SYNC_LIMITS.drainBatch) {
        // Nothing running on the node: back to the idle drain (every idleDrainMs), so 5,000 finished
        // nodes do not cost 5,000 outbox streams a second for the rest of the hot minute.
        if ([...held.values()].every((h) => TERMINAL_PLAN_STATES.has(h.state))) this.#hotUntil.delete(s.id);
        return;
      }
    }
  }
}
