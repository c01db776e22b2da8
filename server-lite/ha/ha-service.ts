// A server replica (issue 17), built by server.ts when `--advertise-address` is given: its tunnels
// in the shared database (tunnel-routes.ts), the internal mutual-TLS listener other replicas forward
// requests through (peer-server.ts), the route lookup the proxy asks when a cluster's tunnel is not
// here (remote-session.ts), and the leases that keep each singleton on one replica (leases.ts).
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Server } from 'node:tls';
import type { Logger } from 'pino';
import type { Clock as TimerClock } from '../../protocol/index.ts';
import type { ReplicaStore } from '../store/replica-store.ts';
import { ROLES, type Role } from '../store/store.ts';
import type { SessionRegistry } from '../tunnel/session-registry.ts';
import type { HaTimings } from './limits.ts';
import { HINT_CHANNELS, type HintBus } from './hints.ts';
import { LeaseRunner, type Singleton } from './leases.ts';
import { createPeerServer } from './peer-server.ts';
import type { PeerCloseReason } from './peer-header.ts';
import { peerRequest, splitAddress } from './peer-stream.ts';
import { issuePeerTls, type PeerTls } from './peer-tls.ts';
import { remoteSession, type RemoteSessionHandle } from './remote-session.ts';
import { TunnelRoutes } from './tunnel-routes.ts';

export interface HaConfig {
  /** HOST:PORT other replicas dial; this replica listens on its port. */
  advertiseAddress: string;
  /** Defaults to a fresh random id per start (a restarted replica is a new one; its old rows expire). */
  replicaId?: string;
}

export interface HaDeps {
  store: ReplicaStore;
  sessions: SessionRegistry;
  dataDir: string;
  log: Logger;
  now: () => number;
  timers: TimerClock;
  timings: HaTimings;
  /** Run a cluster's syncs here (a peer says its tunnel is on this replica). */
  kick: (clusterId: string) => void;
  /** Wake-up hints to and from the other replicas (LISTEN/NOTIFY on PostgreSQL; none on SQLite). */
  hints?: HintBus;
}

export class HaService {
  readonly replicaId: string;
  #address: string;
  readonly routes: TunnelRoutes;
  readonly leases: LeaseRunner;
  readonly #d: HaDeps;
  readonly #tls: PeerTls;
  readonly #server: Server;
  /** Clusters a peer kicked recently: not forwarded again (no ping-pong over a stale route). */
  readonly #kickedByPeer = new Map<string, number>();
  #port = 0;

  constructor(config: HaConfig, d: HaDeps) {
    this.#d = d;
    this.replicaId = config.replicaId ?? `r-${randomBytes(6).toString('hex')}`;
    this.#address = config.advertiseAddress;
    const { host } = splitAddress(config.advertiseAddress);
    this.#tls = issuePeerTls(d.dataDir, this.replicaId, host, d.now());
    this.routes = new TunnelRoutes({
      store: d.store, replicaId: this.replicaId, address: () => this.#address, now: d.now, timers: d.timers, timings: d.timings, log: d.log,
      supersede: (agentId, role, sessionId) => {
        const s = d.sessions.get(agentId, role);
        if (s?.id !== sessionId) return;
        d.log.info({ agentId, role, session: sessionId }, 'the agent reconnected to another replica: closing its tunnel here');
        d.sessions.remove(s);
        s.close('superseded');
      },
      written: () => d.hints?.notify(HINT_CHANNELS.routes),
    });
    this.leases = new LeaseRunner({
      store: d.store, holder: this.replicaId, now: d.now, timers: d.timers, timings: d.timings, log: d.log,
      released: (name) => d.hints?.notify(HINT_CHANNELS.lease, name),
    });
    // Hints only wake up what the heartbeat would do anyway (polling stays the safety net).
    d.hints?.on(HINT_CHANNELS.routes, () => this.routes.checkSoon());
    d.hints?.on(HINT_CHANNELS.lease, () => void this.leases.tickSoon());
    this.#server = createPeerServer({
      tls: this.#tls, sessions: d.sessions, log: d.log, headerTimeoutMs: d.timings.peerConnectTimeoutMs,
      kick: (clusterId) => {
        this.#kickedByPeer.set(clusterId, d.now());
        d.kick(clusterId);
      },
    });
  }

  /** The port the peer listener is bound to (tests pass port 0 in the address). */
  get port(): number {
    return this.#port;
  }

  /** HOST:PORT other replicas dial. */
  get address(): string {
    return this.#address;
  }

  singleton(s: Singleton): void {
    this.leases.add(s);
  }

  async start(): Promise<void> {
    const { host, port } = splitAddress(this.#address);
    const listenHost = isIP(host) ? host : '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, listenHost, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const a = this.#server.address();
    this.#port = typeof a === 'object' && a !== null ? a.port : port;
    // Port 0 (tests): advertise the port we got.
    if (port === 0) this.#address = `${isIP(host) === 6 ? `[${host}]` : host}:${this.#port}`;
    this.#d.sessions.observe(this.routes);
    this.routes.start();
    this.leases.start();
    this.#d.log.info({ replicaId: this.replicaId, advertise: this.#address }, 'HA replica: peer listener up');
  }

  /** The cluster's tunnel on another live replica, as a session whose streams are forwarded there. */
  async clusterSession(clusterId: string, role: Role = 'cluster'): Promise<RemoteSessionHandle | undefined> {
    const route = await this.#d.store.routeCluster(clusterId, role, this.#d.now() - this.#d.timings.staleAfterMs);
    if (!route || route.replicaId === this.replicaId) return undefined;
    return remoteSession(route, this.#tls, this.#d.timings.peerConnectTimeoutMs);
  }

  /** The node agent's tunnel (role `node`) on another live replica (`drover shell` through this one). */
  async nodeSession(nodeId: string): Promise<RemoteSessionHandle | undefined> {
    const route = await this.#d.store.routeNode(nodeId, 'node', this.#d.now() - this.#d.timings.staleAfterMs);
    if (!route || route.replicaId === this.replicaId) return undefined;
    return remoteSession(route, this.#tls, this.#d.timings.peerConnectTimeoutMs);
  }

  /**
   * Closes the agent's tunnels held by other live replicas (revoked, deleted or unregistered through
   * this one; the caller committed that first, so a reconnect is refused). Resolves with the number
   * of replicas that closed some; a replica that cannot be reached is logged (its tunnels die with it
   * or are refused at their next reconnect).
   */
  async closeElsewhere(agentId: string, reason: PeerCloseReason): Promise<number> {
    const fresh = this.#d.now() - this.#d.timings.staleAfterMs;
    const routes = await Promise.all(ROLES.map((role) => this.#d.store.routeAgent(agentId, role, fresh)));
    const addresses = new Set(routes.flatMap((r) => (r && r.replicaId !== this.replicaId ? [r.address] : [])));
    let closed = 0;
    await Promise.all([...addresses].map(async (address) => {
      try {
        await peerRequest(address, this.#tls, { v: 1, op: 'close', agentId, reason }, this.#d.timings.peerConnectTimeoutMs);
        closed++;
      } catch (err) {
        this.#d.log.warn({ err: (err as Error).message, agentId, address }, 'closing the agent’s tunnel at another replica failed');
      }
    }));
    return closed;
  }

  /** Why this replica is not ready (its heartbeat has not reached the database for too long), or undefined. */
  notReady(): string | undefined {
    if (this.routes.healthy(this.#d.timings.unreadyAfterMs)) return undefined;
    return `this replica's heartbeat has not reached the datastore for ${this.#d.now() - this.routes.lastBeatOkAt} ms (${this.routes.failedBeats} failed beats)`;
  }

  /** Tells the replica holding the cluster's tunnel to run its syncs (a wake-up hint; best effort). */
  kickElsewhere(clusterId: string): void {
    const at = this.#kickedByPeer.get(clusterId);
    if (at !== undefined && this.#d.now() - at < this.#d.timings.heartbeatMs) return;
    void (async () => {
      const route = await this.#d.store.routeCluster(clusterId, 'cluster', this.#d.now() - this.#d.timings.staleAfterMs);
      if (!route || route.replicaId === this.replicaId) return;
      await peerRequest(route.address, this.#tls, { v: 1, op: 'kick', clusterId }, this.#d.timings.peerConnectTimeoutMs);
    })().catch((err: unknown) => this.#d.log.warn({ err: (err as Error).message, clusterId }, 'telling the replica holding the cluster failed'));
  }

  async stop(): Promise<void> {
    this.#d.sessions.observe(undefined);
    await this.leases.stop();
    await this.routes.stop();
    await this.#d.hints?.stop();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
