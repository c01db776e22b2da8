// The fleet role inside `drover agent run`: the fleet agent starts with the process, on the agent's
// own SQLite database, whether or not the server is reachable — offline autonomy is the point
// (issue 6). The tunnel only feeds it: streams the server opens to `http:drover-fleet` are served
// by fleet-endpoint.ts. It stops before the runner closes the database.
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { createStreamHttpServer, type TunnelStream } from '../../protocol/index.ts';
import { createFleetAgent, type FleetAgent } from './fleet-agent.ts';
import { createHttpsKube } from './kube-https.ts';
import type { Kube } from './kube.ts';
import { fleetEndpoint, FLEET_TARGET } from './fleet-endpoint.ts';
import { FleetAgentError } from './errors.ts';
import { cleanUpFleetSite } from './site-cleanup.ts';
import type { RoleCleanup } from '../common/cluster-deleted.ts';

export interface FleetRoleContext {
  kubeconfig: string | null | undefined;
  db: Database;
  logger: Logger;
  /** Registers the agent's stop, awaited by the runner before it closes the database. */
  onStop(fn: () => Promise<void>): void;
  /** Registers the role's clean-up for a cluster deleted on the server (run-agent.ts). */
  onCleanup?: ((fn: RoleCleanup) => void) | undefined;
  /** Tells the server statuses are queued (run-agent.ts RoleContext.notifyOutbox). */
  notifyOutbox?: ((queued: number) => void) | undefined;
  /** Pause between reconcile passes (DROVER_FLEET_INTERVAL_MS; default FLEET_AGENT_LIMITS). */
  intervalMs?: number | undefined;
}

/** A Kube whose client is built on first use and rebuilt after a failed build (kubeconfig fixed later). */
export function lazyKube(build: () => Promise<Kube>): Kube {
  let kube: Promise<Kube> | undefined;
  const get = (): Promise<Kube> => {
    kube ??= build().catch((err: unknown) => {
      kube = undefined;
      throw err;
    });
    return kube;
  };
  return {
    resource: async (ref) => (await get()).resource(ref),
    apply: async (obj) => (await get()).apply(obj),
    get: async (ref) => (await get()).get(ref),
    list: async (scope, opts) => (await get()).list(scope, opts),
    collectionVersion: async (scope, opts) => {
      const k = await get();
      if (!k.collectionVersion) throw new FleetAgentError('KUBE_ERROR', 'this Kubernetes client cannot watch');
      return k.collectionVersion(scope, opts);
    },
    watch(scope, opts, handlers) {
      let inner: { stop(): void } | undefined;
      let stopped = false;
      get().then((k) => {
        if (stopped) return;
        if (!k.watch) return handlers.end({ message: 'this Kubernetes client cannot watch' });
        inner = k.watch(scope, opts, handlers);
      }, (err: unknown) => handlers.end({ message: err instanceof Error ? err.message : String(err) }));
      return { stop: () => { stopped = true; inner?.stop(); } };
    },
    delete: async (ref) => (await get()).delete(ref),
    close() {
      void kube?.then((k) => k.close(), () => undefined);
    },
  };
}

/** Starts the fleet agent and returns the handler for streams the server opens on the fleet tunnel. */
export function startFleetRole(ctx: FleetRoleContext): { agent: FleetAgent; onStream: (stream: TunnelStream) => void } {
  const kubeconfig = ctx.kubeconfig;
  const kube = lazyKube(async () => {
    if (!kubeconfig) throw new FleetAgentError('KUBE_UNREACHABLE', 'this agent was registered without --kubeconfig');
    return createHttpsKube(kubeconfig);
  });
  const agent = createFleetAgent({
    db: ctx.db,
    kube,
    log: ctx.logger,
    ...(ctx.notifyOutbox === undefined ? {} : { onStatusQueued: ctx.notifyOutbox }),
    ...(ctx.intervalMs === undefined ? {} : { intervalMs: ctx.intervalMs }),
  });
  agent.start();
  ctx.logger.info({ deployments: agent.resumePoint().length }, 'fleet agent reconciling from local state');
  ctx.onStop(() => agent.stop().finally(() => kube.close()));
  ctx.onCleanup?.(async (order) => {
    const { deployments } = await cleanUpFleetSite(agent, { keepWorkloads: order.keepWorkloads });
    ctx.logger.info({ deployments, keepWorkloads: order.keepWorkloads }, order.keepWorkloads ? 'bundles released; their objects kept' : 'bundle objects removed from the cluster');
    if (deployments === 0) return undefined;
    return order.keepWorkloads ? `released ${deployments} bundle(s), their objects kept` : `removed the objects of ${deployments} bundle(s)`;
  });
  const server = createStreamHttpServer({ request: fleetEndpoint(agent, ctx.logger) });
  return {
    agent,
    onStream(stream) {
      stream.on('error', () => {});
      if (stream.target === FLEET_TARGET) server.serve(stream);
      else stream.reset('STREAM_REFUSED', `the fleet agent does not serve ${stream.target.slice(0, 64)}`);
    },
  };
}
