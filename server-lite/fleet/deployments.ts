// Assignments of a revision to targets (pure): given what each target should end on, what is
// assigned now and who is online, the rollout planner decides who moves now; waiting and Offline
// targets keep what they have; targets no longer wanted lose their assignment (a fleet agent then
// prunes, unless keepResources). Generic over what is rolled out (a bundle's manifest sets today;
// node plans and agent upgrades reuse it): the fleet manager is its one caller for bundles.
import type { Labels } from './label-selector.ts';
import type { RolloutStrategy } from './fleet-yaml.ts';
import { planRollout, type RolloutPlan } from './rollout.ts';
import type { ClusterGroup } from './targeting.ts';

export interface TargetRevision {
  clusterId: string;
  /** The revision this target should end on (its own, when targets render differently). */
  revision: string;
}

export interface CurrentAssignment {
  desiredRevision: string;
  /** Ready at `desiredRevision`. */
  ready: boolean;
}

export interface AssignmentInput {
  /** The revision being rolled out (the bundle's, for messages and the plan). */
  revision: string;
  targets: readonly TargetRevision[];
  /** Names and labels of known clusters (partitions match on them); an unknown one keeps its id as name. */
  clusters: ReadonlyMap<string, { name: string; labels: Labels }>;
  online: ReadonlySet<string>;
  /** Current assignments by cluster id (targets without one are absent). */
  current: ReadonlyMap<string, CurrentAssignment>;
  strategy?: RolloutStrategy | undefined;
  paused?: boolean | undefined;
  groups?: readonly ClusterGroup[] | undefined;
}

export interface AssignmentUpdate {
  /** Assign these revisions now (new or changed). */
  assign: TargetRevision[];
  /** Cluster ids whose assignment goes away (no longer targeted), sorted. */
  unassign: string[];
  plan: RolloutPlan;
}

export function nextAssignments(input: AssignmentInput): AssignmentUpdate {
  const targetRevision = new Map(input.targets.map((t) => [t.clusterId, t.revision]));
  const plan = planRollout({
    revision: input.revision,
    paused: input.paused,
    strategy: input.strategy,
    groups: input.groups,
    clusters: input.targets.map((t) => {
      const known = input.clusters.get(t.clusterId);
      const cur = input.current.get(t.clusterId);
      return {
        id: t.clusterId,
        name: known?.name ?? t.clusterId,
        labels: known?.labels ?? {},
        online: input.online.has(t.clusterId),
        assignedRevision: cur?.desiredRevision,
        targetRevision: t.revision,
        ready: cur?.ready ?? false,
      };
    }),
  });
  const assign = plan.assign.map((clusterId) => ({ clusterId, revision: targetRevision.get(clusterId) ?? input.revision }));
  const unassign = [...input.current.keys()].filter((id) => !targetRevision.has(id)).sort();
  return { assign, unassign, plan };
}
