// Turns a server into an HA replica when `--advertise-address` is given (issue 17): starts the
// HaService and connects it to the rest of the server in one place, so server.ts gains one line.
// Singletons moved under leases: git polling (the fleet's pollers run on the lease holder only) and,
// with the fleet's data in PostgreSQL, fleet rollout scheduling.
import type { Logger } from 'pino';
import type { Clock as TimerClock } from '../../protocol/index.ts';
import type { ServerContext } from '../context.ts';
import type { FleetService } from '../fleet/fleet-service.ts';
import { DatastoreError } from '../store/open-store.ts';
import { PgStore } from '../store/pg-store.ts';
import { HaService } from './ha-service.ts';
import { HINT_CHANNELS } from './hints.ts';
import { PgHints } from './pg-hints.ts';
import { haTimings } from './limits.ts';

/** Names of the leases (one row each in ha_leases). */
export const LEASES = Object.freeze({ gitPolling: 'git-polling', fleetScheduling: 'fleet-scheduling' });

export async function startReplica(
  config: { dataDir: string; advertiseAddress?: string | undefined; datastore?: string | undefined },
  d: { ctx: ServerContext; fleet: FleetService; timers: TimerClock; log: Logger },
): Promise<HaService | undefined> {
  if (config.advertiseAddress === undefined) return undefined;
  const replicas = d.ctx.store.replicas;
  if (!replicas) throw new DatastoreError('--advertise-address needs a datastore that replicas share (SQLite file or postgres://…)');
  const timings = haTimings(process.env);
  const log = d.log.child({ component: 'ha' });
  const ha = new HaService({ advertiseAddress: config.advertiseAddress }, {
    store: replicas,
    sessions: d.ctx.sessions,
    dataDir: config.dataDir,
    log,
    now: () => d.ctx.clock.now(),
    timers: d.timers,
    timings,
    kick: (clusterId) => d.ctx.clusterSyncs.forEach((s) => s.kick(clusterId)),
    hints: d.ctx.hints,
  });
  // Wake-up hints over LISTEN/NOTIFY when the replicas share PostgreSQL (decision 1120); with a
  // shared SQLite file the bus stays local and polling alone carries changes.
  const store = d.ctx.store;
  if (d.ctx.hints && store instanceof PgStore && config.datastore !== undefined) {
    const bus = d.ctx.hints;
    const transport = new PgHints({
      url: config.datastore, run: (sql, args) => store.db.run(sql, args), replicaId: ha.replicaId,
      deliver: (channel, message) => bus.deliver(channel, message), resynced: () => bus.resynced(),
      timers: d.timers, reconnectMs: timings.hintReconnectMs, log,
    });
    bus.attach(transport, ha.replicaId);
    transport.start();
  }
  // Binding changes made on this replica reach a cluster whose tunnel sits on another one.
  d.ctx.rbac.elsewhere = (clusterId) => ha.kickElsewhere(clusterId);
  // `cluster get` through a replica without the cluster's tunnel pulls fresh facts through the owner.
  d.ctx.kubeFacts.remote = (clusterId) => ha.clusterSession(clusterId);
  await d.fleet.setPolling(false);
  ha.singleton({ name: LEASES.gitPolling, start: () => void d.fleet.setPolling(true), stop: () => d.fleet.setPolling(false) });
  // Fleet data shared (PostgreSQL): rollout scheduling (plans, re-renders, garbage collection) on
  // one replica, delivery to its own agents on every one (decision 1101). fleet.db is per replica.
  if (d.fleet.store.kind === 'postgres') {
    d.fleet.setScheduling(false);
    d.fleet.sync.elsewhere = async () => new Set(await replicas.remoteClusters('fleet', ha.replicaId, d.ctx.clock.now() - haTimings(process.env).staleAfterMs));
    ha.singleton({ name: LEASES.fleetScheduling, start: () => d.fleet.setScheduling(true), stop: () => d.fleet.setScheduling(false) });
    // Wake-up hints (decision 1120): a bundle stored or deleted here is looked at by the others now
    // (the scheduler plans, every replica delivers to its own agents); the 1 s cycle stays the safety net.
    const hints = d.ctx.hints;
    if (hints) {
      const local = d.fleet.manager.onChange;
      d.fleet.manager.onChange = () => {
        local();
        hints.notify(HINT_CHANNELS.fleet);
      };
      hints.on(HINT_CHANNELS.fleet, () => d.fleet.sync.kick());
    }
  }
  await ha.start();
  return ha;
}
