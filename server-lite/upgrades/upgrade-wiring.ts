// Builds releases and agent upgrades from the server context (issue 16), so server.ts adds one
// line: the services, their routes, and the delivery loop (DROVER_UPGRADE_SYNC_MS; default 1 s).
import type { ServerContext } from '../context.ts';
import type { Route } from '../http/router.ts';
import { ROLES } from '../store/store.ts';
import { serverReleasePublicKey } from './release-key.ts';
import { ReleaseService } from './release-service.ts';
import { upgradeRoutes } from './upgrade-api.ts';
import { UpgradeService, type UpgradeTargetInfo } from './upgrade-service.ts';
import { UpgradeSync, type UpgradeSession } from './upgrade-sync.ts';
import { remoteAgentIds } from '../plans/ha-scheduling.ts';

export interface Upgrades {
  service?: UpgradeService;
  sync?: UpgradeSync;
  routes: Route[];
  stop(): Promise<void>;
}

/** Targets: every agent not removed or revoked, with its cluster's labels and its reported facts. */
async function targets(ctx: ServerContext): Promise<UpgradeTargetInfo[]> {
  const clusters = new Map((await ctx.store.listClusters()).map((c) => [c.id, c]));
  return (await ctx.store.listAgents()).flatMap((a) => {
    if (a.removedAt !== null || a.revokedAt !== null) return [];
    const c = clusters.get(a.clusterId);
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    return [{ id: a.id, clusterId: a.clusterId, clusterName: c?.name ?? a.clusterId, labels: c?.labels ?? {}, hostname: a.hostname, arch: str(a.facts['arch']), version: str(a.facts['agentVersion']) }];
  });
}

/** One session per agent that can open streams: node, then cluster, then fleet role. */
function sessions(ctx: ServerContext): Map<string, UpgradeSession> {
  const out = new Map<string, UpgradeSession>();
  for (const role of ['node', 'cluster', 'fleet'] as const satisfies readonly (typeof ROLES)[number][]) {
    for (const s of ctx.sessions.byRole(role)) {
      if (!out.has(s.agentId) && s.openStream) out.set(s.agentId, { agentId: s.agentId, openStream: s.openStream.bind(s) });
    }
  }
  return out;
}

export function startUpgrades(ctx: ServerContext, env: NodeJS.ProcessEnv = process.env): Upgrades {
  const records = ctx.store.upgrades;
  if (!records) return { routes: [], stop: async () => {} };
  const releases = new ReleaseService({ dataDir: ctx.dataDir, records, publicKey: () => serverReleasePublicKey(env), now: () => ctx.clock.now() });
  const service = new UpgradeService({ releases, targets: () => targets(ctx), online: (id) => ctx.sessions.hasAgent(id), remoteAgents: () => remoteAgentIds(ctx, env), now: () => ctx.clock.now(), log: ctx.log });
  const syncMs = Number(env['DROVER_UPGRADE_SYNC_MS']) > 0 ? Number(env['DROVER_UPGRADE_SYNC_MS']) : undefined;
  const sync = new UpgradeSync(service, () => sessions(ctx), ctx.log, () => ctx.clock.now(), syncMs);
  sync.start();
  return { service, sync, routes: upgradeRoutes(service), stop: () => sync.stop() };
}
