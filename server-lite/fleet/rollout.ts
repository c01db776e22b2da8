// The rollout planner (pure): which clusters get a bundle's new revision now. Clusters fall into
// the first partition that matches them (the rest into a trailing `default` partition); a partition
// starts only when earlier ones are done (up to maxUnavailablePartitions still going), and within it
// at most maxUnavailable clusters are unavailable at once. Offline clusters are deferred: not
// assigned, not counted unavailable, never blocking a partition (issue 6). Paused: nothing moves.
import { FleetError } from './errors.ts';
import type { IntOrPercent, RolloutStrategy } from './fleet-yaml.ts';
import type { Labels } from './label-selector.ts';
import { matchesTarget, type ClusterGroup } from './targeting.ts';

export interface RolloutCluster {
  id: string;
  name: string;
  labels: Labels;
  /** The fleet agent is connected; otherwise the cluster is Offline and deferred. */
  online: boolean;
  /** The revision currently assigned to this cluster, if any. */
  assignedRevision?: string | undefined;
  /** The revision this cluster should end on, when targets render differently (per-cluster Helm values). */
  targetRevision?: string | undefined;
  /** Its deployment is Ready at the assigned revision. */
  ready: boolean;
}

export interface PartitionPlan {
  name: string;
  members: string[];
  budget: number;
  /** Every online member is at the new revision and Ready (after this plan: newly assigned are not). */
  complete: boolean;
  started: boolean;
}

export interface RolloutPlan {
  /** The bundle revision being rolled out; each cluster's own is its targetRevision when set. */
  revision: string;
  paused: boolean;
  /** Cluster ids to assign the new revision to now. */
  assign: string[];
  /** Already on the new revision. */
  current: string[];
  /** Offline clusters not on the new revision: they get it when they are back and it is their turn. */
  deferred: string[];
  /** Online clusters that must wait, with the reason and their partition; for `partition-gate`, the
   *  earlier partitions still going that hold it (what `bundle status` can tell an operator). */
  waiting: { clusterId: string; reason: 'paused' | 'partition-gate' | 'max-unavailable'; partition: string; blockedBy?: string[] }[];
  partitions: PartitionPlan[];
}

/** Kubernetes' intstr rule for maxUnavailable: percent of `total`, rounded down. */
export function resolveIntOrPercent(value: IntOrPercent, total: number): number {
  if (typeof value === 'number') return value;
  const pct = Number(value.slice(0, -1));
  if (!Number.isFinite(pct) || pct < 0) throw new FleetError('ROLLOUT_INVALID', `maxUnavailable "${value}" is not a percent`);
  return Math.floor((pct * total) / 100);
}

const byId = (a: RolloutCluster, b: RolloutCluster): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function planRollout(input: {
  revision: string;
  clusters: readonly RolloutCluster[];
  strategy?: RolloutStrategy | undefined;
  groups?: readonly ClusterGroup[] | undefined;
  paused?: boolean | undefined;
}): RolloutPlan {
  const { revision, strategy } = input;
  const groups = new Map((input.groups ?? []).map((g) => [g.name, g]));
  const clusters = [...input.clusters].sort(byId);
  const defs = strategy?.partitions ?? [];
  const members: RolloutCluster[][] = defs.map(() => []);
  const rest: RolloutCluster[] = [];
  for (const c of clusters) {
    const i = defs.findIndex((p) => matchesTarget(p, c, groups));
    (i >= 0 ? members[i] : rest)?.push(c);
  }
  const parts = defs.map((p, i) => ({ name: p.name ?? `partition-${i}`, maxUnavailable: p.maxUnavailable, members: members[i] ?? [] }));
  if (rest.length > 0) parts.push({ name: 'default', maxUnavailable: undefined, members: rest });

  const plan: RolloutPlan = { revision, paused: input.paused === true, assign: [], current: [], deferred: [], waiting: [], partitions: [] };
  const atTarget = (c: RolloutCluster): boolean => c.assignedRevision === (c.targetRevision ?? revision);
  // Unavailable: online, has something assigned, not Ready. New clusters (nothing assigned) are not.
  const unavailable = (c: RolloutCluster): boolean => c.online && c.assignedRevision !== undefined && !c.ready;
  const globalMax = strategy?.maxUnavailable ?? '100%';
  // A budget of 0 would block the rollout forever, so at least one cluster may proceed.
  const globalBudget = Math.max(1, resolveIntOrPercent(globalMax, clusters.length));
  let globalUnavailable = clusters.filter(unavailable).length;
  const partitionSlack = resolveIntOrPercent(strategy?.maxUnavailablePartitions ?? 0, parts.length);
  const incomplete: string[] = [];

  for (const part of parts) {
    const budget = Math.max(1, resolveIntOrPercent(part.maxUnavailable ?? globalMax, part.members.length));
    const gateOpen = !plan.paused && incomplete.length <= partitionSlack;
    let partUnavailable = part.members.filter(unavailable).length;
    const assignedHere = new Set<string>();
    for (const c of part.members) {
      if (atTarget(c)) {
        plan.current.push(c.id);
        continue;
      }
      if (!c.online) {
        plan.deferred.push(c.id);
        continue;
      }
      if (!gateOpen) {
        plan.waiting.push(plan.paused ? { clusterId: c.id, reason: 'paused', partition: part.name } : { clusterId: c.id, reason: 'partition-gate', partition: part.name, blockedBy: [...incomplete] });
        continue;
      }
      // Replacing a cluster that is already unavailable costs no budget (as a Deployment replaces unhealthy pods first).
      if (unavailable(c)) {
        plan.assign.push(c.id);
        assignedHere.add(c.id);
        continue;
      }
      if (partUnavailable < budget && globalUnavailable < globalBudget) {
        plan.assign.push(c.id);
        assignedHere.add(c.id);
        partUnavailable += 1;
        globalUnavailable += 1;
      } else {
        plan.waiting.push({ clusterId: c.id, reason: 'max-unavailable', partition: part.name });
      }
    }
    const complete = part.members.every((c) => !c.online || (atTarget(c) && c.ready && !assignedHere.has(c.id)));
    if (!complete) incomplete.push(part.name);
    plan.partitions.push({ name: part.name, members: part.members.map((c) => c.id), budget, complete, started: gateOpen });
  }
  return plan;
}
