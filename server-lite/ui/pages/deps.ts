// What a dashboard page reads from: the server context (store, sessions, clock) and the fleet
// service (bundles, git repos), both passed in by server.ts; pages never open their own stores.
import type { ServerContext } from '../../context.ts';
import type { FleetService } from '../../fleet/fleet-service.ts';
import type { PlanService } from '../../plans/plan-service.ts';
import type { UpgradeService } from '../../upgrades/upgrade-service.ts';
import type { ClusterView } from '../../views.ts';
import type { ClusterSnapshot } from '../cluster-snapshot.ts';
import type { StateHistory } from '../state-history.ts';
import { canSeeCluster, type Viewer } from '../viewer.ts';

export interface UiDeps {
  ctx: ServerContext;
  fleet: FleetService;
  /** Node plans (GET /v1/plans' service). Absent: no plans pages. */
  plans?: PlanService;
  /** Releases and agent upgrades (GET /v1/releases, /v1/upgrades' service). Absent: no upgrades page. */
  upgrades?: UpgradeService | undefined;
  /** Every cluster's view, shared by pages and live streams (at most a second old). */
  clusters: ClusterSnapshot;
  /** Cluster states over time (in memory, since the server started). */
  history: StateHistory;
}

/** The clusters the viewer may see, as /v1/clusters shows them (views.ts). */
export async function visibleClusters(deps: UiDeps, viewer: Viewer): Promise<ClusterView[]> {
  const all = await deps.clusters.get();
  return viewer.admin ? all : all.filter((c) => canSeeCluster(viewer, c.id));
}

/**
 * What an offline cluster's fleet agent last reported, per state ("2 Ready, 1 NotReady"), for
 * the bundles still targeting it: the fleet's own status shows such deployments Offline (it
 * never shows a stale report as current), so the dashboard adds the last report beside it.
 */
export async function lastReported(deps: UiDeps, clusterId: string, bundles: readonly string[]): Promise<string> {
  const wanted = new Set(bundles);
  const counts = new Map<string, number>();
  for (const d of await deps.fleet.store.deployments({ clusterId })) {
    if (!wanted.has(d.bundle)) continue;
    const state = d.state ?? 'nothing';
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  return [...counts].map(([s, n]) => `${n} ${s}`).join(', ') || 'nothing';
}
