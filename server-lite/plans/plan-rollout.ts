// Which nodes get a plan now (pure). The fleet's one planner decides (deployments.ts
// nextAssignments → rollout.ts, decision 0804): nodes are its targets, the plan's checksum the
// revision, `--concurrency` the maxUnavailable, and control-plane nodes a first partition with
// maxUnavailable 1, so they go one at a time and workers start only when they are done. What the
// planner cannot know is decided here first: a node outside its maintenance window (in its own
// clock) is held back like an Offline one, and the rollout stops (as if paused) once more than
// `maxFailures` nodes failed or rolled back.
import { TERMINAL_PLAN_STATES, type PlanState } from '../../protocol/index.ts';
import { nextAssignments, type CurrentAssignment } from '../fleet/deployments.ts';
import type { RolloutPlan } from '../fleet/rollout.ts';
import type { IntOrPercent } from '../fleet/fleet-yaml.ts';
import { inWindow, type MaintenanceWindow } from './window.ts';

export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';

export interface RolloutNode {
  id: string;
  name: string;
  labels: Record<string, string>;
  online: boolean;
  /** The node's clock offset from UTC, when it has told us. */
  utcOffsetMinutes: number | undefined;
  /** The checksum assigned to this node, if any. */
  assigned: string | undefined;
  /** The latest state the node reported, and for which checksum. */
  state: PlanState | undefined;
  stateChecksum: string | undefined;
}

export interface PlanRolloutInput {
  checksum: string;
  concurrency: IntOrPercent;
  maxFailures: number;
  /** Failures already accepted by a `plan resume` after the rollout stopped. */
  failureBase: number;
  window: MaintenanceWindow | undefined;
  paused: boolean;
  canceled: boolean;
  nodes: readonly RolloutNode[];
  now: number;
}

export interface PlanRolloutDecision {
  assign: string[];
  failures: number;
  /** Stopped by --max-failures (until `plan resume`). */
  halted: boolean;
  /** Online nodes held back by the maintenance window. */
  outsideWindow: string[];
  plan: RolloutPlan;
}

const FAILED: ReadonlySet<PlanState | undefined> = new Set(['Failed', 'RolledBack']);

export function planRollout(input: PlanRolloutInput): PlanRolloutDecision {
  const atChecksum = (n: RolloutNode): boolean => n.stateChecksum === input.checksum;
  const failures = input.nodes.filter((n) => atChecksum(n) && FAILED.has(n.state)).length;
  const halted = failures - input.failureBase > input.maxFailures;
  const outsideWindow = input.nodes.filter((n) => n.online && n.assigned !== input.checksum && input.window !== undefined && !inWindow(input.window, input.now, n.utcOffsetMinutes ?? 0)).map((n) => n.id);
  const held = new Set(outsideWindow);
  const current = new Map<string, CurrentAssignment>();
  for (const n of input.nodes) {
    // Done with this checksum, whatever the outcome: a failed node no longer holds a slot
    // (--max-failures decides whether the rollout goes on); a Paused one does.
    if (n.assigned !== undefined) current.set(n.id, { desiredRevision: n.assigned, ready: atChecksum(n) && n.state !== undefined && TERMINAL_PLAN_STATES.has(n.state) });
  }
  const update = nextAssignments({
    revision: input.checksum,
    targets: input.nodes.map((n) => ({ clusterId: n.id, revision: input.checksum })),
    clusters: new Map(input.nodes.map((n) => [n.id, { name: n.name, labels: n.labels }])),
    online: new Set(input.nodes.filter((n) => n.online && !held.has(n.id)).map((n) => n.id)),
    current,
    paused: input.paused || input.canceled || halted,
    strategy: {
      maxUnavailable: input.concurrency,
      partitions: [{ name: 'control-plane', maxUnavailable: 1, clusterSelector: { matchExpressions: [{ key: CONTROL_PLANE_LABEL, operator: 'Exists' }] } }],
    },
  });
  return { assign: update.assign.map((a) => a.clusterId), failures, halted, outsideWindow, plan: update.plan };
}
