// One deployment record per (bundle, cluster) with its desired revision (issue 6). Given a freshly
// rendered bundle and the records and cluster states the store holds, decide the next records: the
// rollout planner picks who moves now; waiting and Offline clusters keep their old desired revision;
// clusters no longer targeted lose their record (their agent then prunes, unless keepResources).
import type { FleetYaml } from './fleet-yaml.ts';
import type { RenderedBundle } from './render-source.ts';
import { planRollout, type RolloutPlan } from './rollout.ts';
import type { ClusterGroup, ClusterInfo } from './targeting.ts';

export interface DeploymentRecord {
  bundle: string;
  clusterId: string;
  /** Manifest-set revision the agent should converge on. */
  desiredRevision: string;
}

export interface ClusterState extends ClusterInfo {
  /** The cluster's fleet agent is connected. */
  online: boolean;
}

export interface DeploymentUpdate {
  /** Records to write (new or changed desired revision). */
  upserts: DeploymentRecord[];
  /** Clusters whose record for this bundle goes away. */
  removed: string[];
  plan: RolloutPlan;
}

export function nextDeployments(input: {
  rendered: RenderedBundle;
  fleetYaml: FleetYaml;
  clusters: readonly ClusterState[];
  groups?: readonly ClusterGroup[] | undefined;
  /** Current records of this bundle by cluster id, with whether that deployment is Ready. */
  current: ReadonlyMap<string, { desiredRevision: string; ready: boolean }>;
}): DeploymentUpdate {
  const { rendered } = input;
  const byId = new Map(input.clusters.map((c) => [c.id, c]));
  const targetRevision = new Map(rendered.targets.map((t) => [t.clusterId, t.set.revision]));
  const rolloutClusters = rendered.targets.flatMap((t) => {
    const c = byId.get(t.clusterId);
    if (!c) return [];
    const cur = input.current.get(t.clusterId);
    return [{ id: c.id, name: c.name, labels: c.labels, online: c.online, assignedRevision: cur?.desiredRevision, ready: cur?.ready ?? false, targetRevision: t.set.revision }];
  });
  const plan = planRollout({
    revision: rendered.revision,
    clusters: rolloutClusters,
    strategy: input.fleetYaml.rolloutStrategy,
    groups: input.groups,
    paused: input.fleetYaml.paused,
  });
  const upserts = plan.assign.map((clusterId) => ({ bundle: rendered.name, clusterId, desiredRevision: targetRevision.get(clusterId) ?? rendered.revision }));
  const removed = [...input.current.keys()].filter((id) => !targetRevision.has(id)).sort();
  return { upserts, removed, plan };
}
