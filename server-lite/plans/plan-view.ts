// What `plan status`, `plan list` and `node get` show (pure): per node its state for the plan's
// current checksum — Offline (deferred, not failed) when its node agent is not connected and it has
// not finished — and why a node that has not started is waiting; summary counts; and the labels a
// node is targeted by (`--target`): its cluster's labels plus a few of its own.
import { TERMINAL_PLAN_STATES, type PlanState } from '../../protocol/index.ts';
import { CONTROL_PLANE_LABEL, type PlanRolloutDecision } from './plan-rollout.ts';
import type { PlanNodeRecord, PlanRecord } from './plan-store.ts';

export interface NodeTargetInfo {
  id: string;
  name: string;
  clusterId: string;
  clusterName: string;
  clusterLabels: Record<string, string>;
  facts: Record<string, unknown>;
}

/** A node is a control-plane node when its facts say so (`controlPlane: true`, or extras `controlPlane` / `node.controlPlane` "true"). */
export function isControlPlane(facts: Record<string, unknown>): boolean {
  const extras = facts.extras as Record<string, unknown> | undefined;
  return facts.controlPlane === true || extras?.controlPlane === 'true' || extras?.['node.controlPlane'] === 'true';
}

export function nodeLabels(n: NodeTargetInfo): Record<string, string> {
  return {
    ...n.clusterLabels,
    'drover.dev/cluster': n.clusterId,
    'drover.dev/cluster-name': n.clusterName,
    'drover.dev/node': n.id,
    'kubernetes.io/hostname': n.name,
    ...(isControlPlane(n.facts) ? { [CONTROL_PLANE_LABEL]: 'true' } : {}),
  };
}

export type NodePlanState = PlanState | 'Offline';

export interface PlanNodeView {
  id: string;
  name: string;
  state: NodePlanState;
  checksum: string | null;
  instruction: string | null;
  exitCode: number | null;
  message: string;
  since: string | null;
}

export interface PlanSummary {
  pending: number; inProgress: number; succeeded: number; failed: number; rolledBack: number; paused: number; offline: number; canceled: number;
}

export interface PlanStatusView {
  name: string;
  checksum: string;
  target: string;
  concurrency: string;
  maxFailures: number;
  window: string | null;
  paused: boolean;
  canceled: boolean;
  /** Stopped by --max-failures until `plan resume`. */
  halted: boolean;
  summary: PlanSummary;
  nodes: PlanNodeView[];
}

const SUMMARY_KEY: Record<NodePlanState, keyof PlanSummary> = {
  Pending: 'pending', InProgress: 'inProgress', Succeeded: 'succeeded', Failed: 'failed', RolledBack: 'rolledBack', Paused: 'paused', Offline: 'offline', Canceled: 'canceled',
};

export function planStatusView(input: {
  plan: PlanRecord;
  targets: readonly { id: string; name: string; online: boolean }[];
  rows: readonly PlanNodeRecord[];
  decision: PlanRolloutDecision | undefined;
}): PlanStatusView {
  const { plan, decision } = input;
  const rows = new Map(input.rows.map((r) => [r.nodeId, r]));
  const waiting = new Map((decision?.plan.waiting ?? []).map((w) => [w.clusterId, w]));
  const outside = new Set(decision?.outsideWindow ?? []);
  const summary: PlanSummary = { pending: 0, inProgress: 0, succeeded: 0, failed: 0, rolledBack: 0, paused: 0, offline: 0, canceled: 0 };
  const nodes = input.targets.map((t): PlanNodeView => {
    const r = rows.get(t.id);
    const reported = r && r.checksum === plan.checksum && r.state ? r.state : undefined;
    const done = reported !== undefined && TERMINAL_PLAN_STATES.has(reported);
    let state: NodePlanState;
    let message: string;
    if (!t.online && !done) {
      state = 'Offline';
      message = reported ? `node agent not connected; last reported ${reported}${r?.message ? `: ${r.message}` : ''}` : 'node agent not connected; deferred until it is back';
    } else if (reported) {
      state = reported;
      message = r?.message ?? '';
    } else {
      state = 'Pending';
      const w = waiting.get(t.id);
      message = r?.assigned === plan.checksum ? 'assigned; being delivered'
        : plan.canceled ? 'canceled before it reached this node'
        : decision?.halted ? `rollout stopped: ${decision.failures} nodes failed (--max-failures ${plan.maxFailures}); \`drover plan resume ${plan.name}\` goes on`
        : outside.has(t.id) ? `waiting for the maintenance window (${plan.window ?? ''}, node's clock)`
        : w?.reason === 'paused' ? 'plan paused'
        : w?.reason === 'partition-gate' ? 'waiting: control-plane nodes go first'
        : w?.reason === 'max-unavailable' ? `waiting for a slot (--concurrency ${plan.concurrency})`
        : 'waiting';
    }
    summary[SUMMARY_KEY[state]]++;
    return { id: t.id, name: t.name, state, checksum: r?.checksum ?? null, instruction: r?.instruction ?? null, exitCode: r?.exitCode ?? null, message, since: r?.since ?? null };
  });
  return {
    name: plan.name, checksum: plan.checksum, target: plan.target, concurrency: plan.concurrency, maxFailures: plan.maxFailures, window: plan.window,
    paused: plan.paused, canceled: plan.canceled, halted: decision?.halted ?? false, summary, nodes,
  };
}
