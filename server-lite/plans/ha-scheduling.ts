// Plan and upgrade scheduling with several replicas (issue 17, decision 1112). Deciding a rollout
// is global work: one replica at a time, the holder of a lease (ha/leases.ts, as git polling),
// reads the shared records, decides who goes next and stores it (plan_nodes.assigned,
// upgrade_agents.assigned). Delivery is per tunnel: every replica talks to the node and agent
// tunnels it holds, from the same records. Who is online is this replica's tunnels plus the live
// other replicas' (ha_sessions); node clocks are in the database (plan_node_clocks).
import type { ServerContext } from '../context.ts';
import { HINT_CHANNELS } from '../ha/hints.ts';
import { haTimings } from '../ha/limits.ts';
import type { Upgrades } from '../upgrades/upgrade-wiring.ts';
import type { PlanService } from './plan-service.ts';

/** Names of the leases (rows in ha_leases). */
export const SCHEDULING_LEASES = Object.freeze({ plans: 'plan-scheduling', upgrades: 'upgrade-scheduling' });

/** Agents whose tunnels sit on another live replica (none without replicas). */
export async function remoteAgentIds(ctx: ServerContext, env: NodeJS.ProcessEnv = process.env): Promise<Set<string>> {
  const ha = ctx.ha;
  const replicas = ctx.store.replicas;
  if (!ha || !replicas) return new Set();
  const rows = await replicas.remoteAgents(ha.replicaId, ctx.clock.now() - haTimings(env).staleAfterMs);
  return new Set(rows.map((r) => r.agentId));
}

/** Nodes whose node agent is connected to another live replica. */
export async function remoteNodeIds(ctx: ServerContext): Promise<Set<string>> {
  const ids = await remoteAgentIds(ctx);
  if (ids.size === 0) return ids;
  return new Set((await ctx.store.listAgents()).filter((a) => ids.has(a.id) && a.roles.includes('node')).map((a) => a.nodeId));
}

/** With replicas (ctx.ha set): plan and upgrade scheduling run under their leases; without, nothing changes. */
export function scheduleUnderLeases(ctx: ServerContext, plans: PlanService, upgrades: Upgrades): void {
  const ha = ctx.ha;
  if (!ha) return;
  // Replicas on one SQLite file keep a plans.db each (not shared): each goes on scheduling its own.
  if (plans.store.shared) {
    plans.sync.setScheduling(false);
    ha.singleton({ name: SCHEDULING_LEASES.plans, start: () => plans.sync.setScheduling(true), stop: () => plans.sync.setScheduling(false) });
    // Wake-up hints (decision 1120): a plan applied here is looked at by the others now, not at their next cycle.
    const hints = ctx.hints;
    if (hints) {
      plans.onChange = () => hints.notify(HINT_CHANNELS.plans);
      hints.on(HINT_CHANNELS.plans, () => plans.sync.kick());
    }
  }
  const { sync, service } = upgrades;
  if (!sync || !service) return;
  service.coordinated = true;
  sync.scheduling = false;
  const hints = ctx.hints;
  if (hints) {
    service.onChange = () => hints.notify(HINT_CHANNELS.upgrades);
    hints.on(HINT_CHANNELS.upgrades, () => sync.kick());
  }
  ha.singleton({
    name: SCHEDULING_LEASES.upgrades,
    start: () => {
      sync.scheduling = true;
      sync.kick();
    },
    stop: () => {
      sync.scheduling = false;
    },
  });
}
