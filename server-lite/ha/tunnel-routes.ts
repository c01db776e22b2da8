// This replica's tunnels in the shared database (issue 17): each registration and close in the
// local SessionRegistry is queued and written in one transaction per flush window; one heartbeat
// row per replica per interval says all of them are alive (10,000 tunnels cost one write per beat).
// Each beat also expires dead replicas' rows and closes local tunnels another replica took over
// (newest wins across replicas: the store keeps the newer `since` and bumps the epoch).
import type { Logger } from 'pino';
import type { Clock as TimerClock, TimerHandle } from '../../protocol/index.ts';
import type { Role } from '../store/store.ts';
import type { ReplicaSessionRow, ReplicaStore } from '../store/replica-store.ts';
import type { SessionInfo, SessionObserver } from '../tunnel/session-registry.ts';
import type { HaTimings } from './limits.ts';

export interface TunnelRoutesOptions {
  store: ReplicaStore;
  replicaId: string;
  /** HOST:PORT peers dial (known once the peer listener is bound). */
  address: () => string;
  now: () => number;
  timers: TimerClock;
  timings: HaTimings;
  log: Logger;
  /** Closes a local session another replica took over (SessionRegistry: close as superseded). */
  supersede: (agentId: string, role: Role, sessionId: string) => void;
}

const keyOf = (agentId: string, role: Role): string => `${agentId}/${role}`;

export class TunnelRoutes implements SessionObserver {
  readonly #o: TunnelRoutesOptions;
  readonly #startedAt: number;
  /** Pending writes, last one per (agent, role) wins: a connect and close within a window cancel. */
  readonly #pending = new Map<string, { add: ReplicaSessionRow } | { remove: { agentId: string; role: Role; sessionId: string } }>();
  /** Local sessions whose row was written: only those can have been taken over. */
  readonly #written = new Map<string, string>();
  #flushTimer: TimerHandle | undefined;
  #beatTimer: TimerHandle | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #stopped = false;
  /** agentId → heartbeat of the live replica holding its tunnel (other replicas only), as of the last beat. */
  #remote = new Map<string, number>();
  /** Beats that found the database unreachable in a row (readiness reads it). */
  failedBeats = 0;

  constructor(o: TunnelRoutesOptions) {
    this.#o = o;
    this.#startedAt = o.now();
  }

  added(s: SessionInfo): void {
    this.#pending.set(keyOf(s.agentId, s.role), {
      add: { agentId: s.agentId, role: s.role, clusterId: s.clusterId, nodeId: s.nodeId, replicaId: this.#o.replicaId, sessionId: s.id, since: s.since },
    });
    this.#schedule();
  }

  removed(s: SessionInfo): void {
    this.#pending.set(keyOf(s.agentId, s.role), { remove: { agentId: s.agentId, role: s.role, sessionId: s.id } });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#flushTimer !== undefined || this.#stopped) return;
    this.#flushTimer = this.#o.timers.setTimeout(() => {
      this.#flushTimer = undefined;
      void this.flush();
    }, this.#o.timings.flushMs);
  }

  /** Writes what is pending (one transaction each for connects and closes); serialised. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce()).catch((err: unknown) => {
      this.#o.log.error({ err }, 'writing tunnel routes failed; retrying');
      this.#schedule();
    });
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending.entries()];
    this.#pending.clear();
    const adds: ReplicaSessionRow[] = [];
    const removes: Array<{ agentId: string; role: Role; sessionId: string }> = [];
    for (const [, op] of batch) ('add' in op ? adds.push(op.add) : removes.push(op.remove));
    try {
      await this.#o.store.unregisterSessions(removes);
      for (const r of removes) if (this.#written.get(keyOf(r.agentId, r.role)) === r.sessionId) this.#written.delete(keyOf(r.agentId, r.role));
      const lost = await this.#o.store.registerSessions(adds);
      for (const a of adds) this.#written.set(keyOf(a.agentId, a.role), a.sessionId);
      // A newer tunnel of the same agent already sits on another replica: ours is the stale one.
      for (const l of lost) this.#o.supersede(l.agentId, l.role, l.sessionId);
    } catch (err) {
      // Put back what is not superseded by something newer queued meanwhile.
      for (const [key, op] of batch) if (!this.#pending.has(key)) this.#pending.set(key, op);
      throw err;
    }
  }

  /** One heartbeat: our row, dead replicas expired, takeovers by other replicas acted on. */
  async beat(): Promise<void> {
    const now = this.#o.now();
    try {
      await this.#o.store.heartbeatReplica({ id: this.#o.replicaId, address: this.#o.address(), startedAt: this.#startedAt, heartbeatAt: now });
      const expired = await this.#o.store.expireReplicas(now - this.#o.timings.staleAfterMs);
      if (expired.length > 0) this.#o.log.warn({ replicas: expired }, 'expired the tunnel routes of replicas that stopped heartbeating');
      await this.#flushing;
      const held = new Set((await this.#o.store.sessionsOf(this.#o.replicaId)).map((r) => `${keyOf(r.agentId, r.role)}#${r.sessionId}`));
      for (const [key, sessionId] of [...this.#written]) {
        if (this.#pending.has(key) || held.has(`${key}#${sessionId}`)) continue;
        this.#written.delete(key);
        const [agentId = '', role = ''] = key.split('/');
        this.#o.supersede(agentId, role as Role, sessionId);
      }
      const remote = new Map<string, number>();
      for (const r of await this.#o.store.remoteAgents(this.#o.replicaId, now - this.#o.timings.staleAfterMs)) remote.set(r.agentId, r.heartbeatAt);
      this.#remote = remote;
      this.failedBeats = 0;
    } catch (err) {
      this.failedBeats++;
      this.#o.log.error({ err }, 'replica heartbeat failed');
    }
  }

  start(): void {
    const loop = (): void => {
      this.#beatTimer = this.#o.timers.setTimeout(() => {
        void this.beat().finally(() => {
          if (!this.#stopped) loop();
        });
      }, this.#o.timings.heartbeatMs);
    };
    void this.beat();
    loop();
  }

  /**
   * When another live replica last vouched for the agent's tunnel (its heartbeat), if one holds it:
   * that replica's ping/pong closes dead tunnels, so its heartbeat is as good as a frame seen here.
   */
  remoteSeen(agentId: string): number | undefined {
    return this.#remote.get(agentId);
  }

  /** Clean shutdown: our routes go at once, so other replicas stop forwarding to us. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#flushTimer !== undefined) this.#o.timers.clearTimeout(this.#flushTimer);
    if (this.#beatTimer !== undefined) this.#o.timers.clearTimeout(this.#beatTimer);
    await this.#flushing;
    await this.#o.store.removeReplica(this.#o.replicaId).catch((err: unknown) => this.#o.log.error({ err }, 'removing the replica row failed'));
  }
}
