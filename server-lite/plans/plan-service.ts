// Node plans as the server runs them: the plan records (plans.db), the rollout decided per plan
// on each change (plan-rollout.ts, the fleet's one planner) and the delivery loop over node-role
// tunnels (plan-sync.ts). server.ts builds it with the host's nodes and sessions and mounts
// plan-api.ts; nothing here reaches into the server's own store or registry.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { checkPlan, planChecksum } from '../../protocol/index.ts';
import { matchesSelector, parseSelectorString } from '../fleet/label-selector.ts';
import type { IntOrPercent } from '../fleet/fleet-yaml.ts';
import type { PlanAction, PlanRecord, PlanStore } from './plan-store.ts';
import { SqlitePlanStore } from './sqlite-plan-store.ts';
import { planRollout, type PlanRolloutDecision, type RolloutNode } from './plan-rollout.ts';
import { nodeLabels, planStatusView, type NodeTargetInfo, type PlanStatusView } from './plan-view.ts';
import { parseWindow } from './window.ts';
import { PlanSync, type NodeSession } from './plan-sync.ts';
import { PlanError } from './errors.ts';

export interface PlanServiceDeps {
  dataDir: string;
  log: Logger;
  now: () => number;
  /** Registered nodes (not removed), with their cluster's name and labels and their facts. */
  nodes: () => Promise<NodeTargetInfo[]>;
  /** Node-role sessions that can open streams, newest per agent. */
  sessions: () => NodeSession[];
  /** Delivery cycle (DROVER_PLAN_SYNC_MS; default 1 s). */
  syncMs?: number | undefined;
  /** The records; default: the data dir's own plans.db. A PostgreSQL server passes its shared store. */
  store?: PlanStore | undefined;
  /** Nodes whose node agent is connected to another replica (HA); default none. */
  remoteNodes?: (() => Promise<ReadonlySet<string>>) | undefined;
}

export interface ApplyRequest {
  name: string;
  document: unknown;
  target: string;
  concurrency?: string | undefined;
  maxFailures?: number | undefined;
  window?: string | undefined;
}

export function parseConcurrency(text: string): IntOrPercent {
  const m = /^(\d+)(%?)$/.exec(text.trim());
  const n = Number(m?.[1]);
  if (!m || n < 1 || (m[2] === '%' && n > 100)) throw new PlanError('PLAN_OPTIONS_INVALID', `--concurrency "${text}": expected a number of nodes (1 or more) or a percentage like 25%`);
  return m[2] === '%' ? `${n}%` : n;
}

export class PlanService {
  readonly store: PlanStore;
  readonly sync: PlanSync;
  /** Called after a plan is applied or controlled here (HA: a wake-up hint to the other replicas). */
  onChange: () => void = () => {};
  readonly #deps: PlanServiceDeps;
  readonly #decisions = new Map<string, PlanRolloutDecision>();

  constructor(deps: PlanServiceDeps) {
    this.#deps = deps;
    this.store = deps.store ?? new SqlitePlanStore(join(deps.dataDir, 'plans.db'));
    this.sync = new PlanSync(this, deps.sessions, deps.log, deps.syncMs);
  }

  start(): void {
    this.sync.start();
  }

  async stop(): Promise<void> {
    await this.sync.stop();
    await this.store.close();
  }

  /** Validates everything first: a refused plan stores nothing. */
  async apply(req: ApplyRequest): Promise<{ name: string; checksum: string; matched: number }> {
    let plan;
    try {
      plan = checkPlan(req.document).plan;
    } catch (err) {
      throw new PlanError('PLAN_INVALID', (err as Error).message);
    }
    let selector;
    try {
      selector = parseSelectorString(req.target);
    } catch (err) {
      throw new PlanError('PLAN_OPTIONS_INVALID', `--target: ${(err as Error).message}`);
    }
    const concurrency = req.concurrency ?? '1';
    parseConcurrency(concurrency);
    if (req.window !== undefined) {
      try {
        parseWindow(req.window);
      } catch (err) {
        throw new PlanError('PLAN_OPTIONS_INVALID', (err as Error).message);
      }
    }
    const checksum = planChecksum(plan);
    await this.store.putPlan({ name: req.name, checksum, document: req.document, target: req.target, concurrency, maxFailures: req.maxFailures ?? 0, window: req.window ?? null }, this.#deps.now());
    const matched = (await this.#deps.nodes()).filter((n) => matchesSelector(selector, nodeLabels(n))).length;
    this.#deps.log.info({ plan: req.name, checksum: checksum.slice(0, 12), target: req.target, matched }, 'plan applied');
    this.sync.kick();
    this.onChange();
    return { name: req.name, checksum, matched };
  }

  async control(name: string, action: PlanAction): Promise<void> {
    let failures = this.#decisions.get(name)?.failures;
    if (failures === undefined) {
      // Not the scheduling replica: the same decision, derived here.
      const plan = await this.store.plan(name);
      failures = plan ? (await this.#decide(plan, await this.#deps.nodes(), await this.online(), await this.clocks())).decision.failures : 0;
    }
    if (!await this.store.control(name, action, failures, this.#deps.now())) throw new PlanError('PLAN_NOT_FOUND', `no plan ${name} (see drover plan list)`);
    this.#deps.log.info({ plan: name, action }, 'plan control');
    this.sync.kick();
    this.onChange();
  }

  /** The nodes a plan targets now, with what the rollout needs to know about each. */
  async #targets(plan: PlanRecord, all: readonly NodeTargetInfo[], online: ReadonlySet<string>, clocks: ReadonlyMap<string, number>): Promise<RolloutNode[]> {
    const selector = parseSelectorString(plan.target);
    const rows = new Map((await this.store.nodes(plan.name)).map((r) => [r.nodeId, r]));
    return all.flatMap((n) => {
      const labels = nodeLabels(n);
      if (!matchesSelector(selector, labels)) return [];
      const r = rows.get(n.id);
      return [{ id: n.id, name: n.name, labels, online: online.has(n.id), utcOffsetMinutes: clocks.get(n.id), assigned: r?.assigned ?? undefined, state: r?.state ?? undefined, stateChecksum: r?.checksum ?? undefined }];
    });
  }

  /** Nodes with a connected node agent: this replica's tunnels and, with replicas, the others'. */
  async online(): Promise<Set<string>> {
    const here = this.sync.online();
    const there = (await this.#deps.remoteNodes?.()) ?? new Set<string>();
    return new Set([...here, ...there]);
  }

  /** The nodes' clocks as their agents reported them (to whichever replica holds their tunnel). */
  clocks(): Promise<Map<string, number>> {
    return this.store.clocks();
  }

  async #decide(plan: PlanRecord, all: readonly NodeTargetInfo[], online: ReadonlySet<string>, clocks: ReadonlyMap<string, number>): Promise<{ nodes: RolloutNode[]; decision: PlanRolloutDecision }> {
    const nodes = await this.#targets(plan, all, online, clocks);
    const decision = planRollout({
      checksum: plan.checksum, concurrency: parseConcurrency(plan.concurrency), maxFailures: plan.maxFailures, failureBase: plan.failureBase,
      window: plan.window === null ? undefined : parseWindow(plan.window), paused: plan.paused, canceled: plan.canceled, nodes, now: this.#deps.now(),
    });
    return { nodes, decision };
  }

  /** Decides every plan's next assignments and stores them (the delivery loops send them). Runs on one replica (the plan-scheduling lease). */
  async replan(online: ReadonlySet<string>, clocks: ReadonlyMap<string, number>): Promise<number> {
    const all = await this.#deps.nodes();
    let assigned = 0;
    for (const plan of await this.store.plans()) {
      const { decision: d } = await this.#decide(plan, all, online, clocks);
      this.#decisions.set(plan.name, d);
      await this.store.assign(plan.name, d.assign, plan.checksum, this.#deps.now());
      assigned += d.assign.length;
    }
    return assigned;
  }

  /** This replica stopped scheduling: its cached decisions go stale, status derives them afresh. */
  forgetDecisions(): void {
    this.#decisions.clear();
  }

  async status(name: string): Promise<PlanStatusView> {
    const plan = await this.store.plan(name);
    if (!plan) throw new PlanError('PLAN_NOT_FOUND', `no plan ${name} (see drover plan list)`);
    const online = await this.online();
    const all = await this.#deps.nodes();
    const clocks = await this.clocks();
    const cached = this.#decisions.get(name);
    const { nodes, decision } = cached ? { nodes: await this.#targets(plan, all, online, clocks), decision: cached } : await this.#decide(plan, all, online, clocks);
    return planStatusView({ plan, targets: nodes, rows: await this.store.nodes(name), decision });
  }

  async list(): Promise<{ name: string; checksum: string; target: string; paused: boolean; canceled: boolean; halted: boolean; summary: PlanStatusView['summary']; updatedAt: string }[]> {
    const out = [];
    for (const p of await this.store.plans()) {
      const s = await this.status(p.name);
      out.push({ name: p.name, checksum: p.checksum, target: p.target, paused: p.paused, canceled: p.canceled, halted: s.halted, summary: s.summary, updatedAt: new Date(p.updatedAt).toISOString() });
    }
    return out;
  }
}
