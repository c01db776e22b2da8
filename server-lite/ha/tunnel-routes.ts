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
  /** Routes were written (a hint for the other replicas: hints.ts). */
  written?: () => void;
}

const keyOf = (agentId: string, role: Role): string => `${agentId}/${role}`;

export class TunnelRoutes implements SessionObserver {
  readonly #o: TunnelRoutesOptions;
  readonly #startedAt: number;
  /** Pending writes, last one per (agent, role) wins: a connect and close within a window cancel. */
  readonly #pending = new Map<string, { add: ReplicaSessionRow } | { remove: { agentId: string; role: Role; sessionId: string } }>();
  /** Local sessions whose row was written (by key): only those can have been taken over. */
  readonly #written = new Map<string, ReplicaSessionRow>();
  #flushTimer: TimerHandle | undefined;
  #beatTimer: TimerHandle | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #stopped = false;
  #checkTimer: TimerHandle | undefined;
  #lastHintCheckAt = 0;
  #checking: Promise<void> = Promise.resolve();
  /** agentId → heartbeat of the live replica holding its tunnel (other replicas only), as of the last beat. */
  #remote = new Map<string, number>();
  /** Beats that found the database unreachable in a row (readiness reads it). */
  failedBeats = 0;
  /** When the last beat reached the database (the start counts as one: not ready only after a failure). */
  lastBeatOkAt: number;

  constructor(o: TunnelRoutesOptions) {
    this.#o = o;
    this.#startedAt = o.now();
    this.lastBeatOkAt = this.#startedAt;
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
      for (const r of removes) if (this.#written.get(keyOf(r.agentId, r.role))?.sessionId === r.sessionId) this.#written.delete(keyOf(r.agentId, r.role));
      const lost = await this.#o.store.registerSessions(adds);
      for (const a of adds) this.#written.set(keyOf(a.agentId, a.role), a);
      // A newer tunnel of the same agent already sits on another replica: ours is the stale one.
      for (const l of lost) this.#o.supersede(l.agentId, l.role, l.sessionId);
      // Takeovers (an older row elsewhere) and new routes: the others look now, not at their next beat.
      if (adds.length > 0) this.#o.written?.();
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
      await this.#check();
      this.failedBeats = 0;
      this.lastBeatOkAt = now;
    } catch (err) {
      this.failedBeats++;
      this.#o.log.error({ err }, 'replica heartbeat failed');
    }
  }

  /**
   * Our rows against the database: a written tunnel whose row is gone was either taken over by a
   * newer tunnel on another replica or expired with our replica row (our heartbeat failed longer
   * than staleAfterMs, e.g. while PostgreSQL restarted). Writing it again lets newest-wins tell
   * the two apart: it loses to a successor (closed here as superseded) and comes back otherwise,
   * so an outage of the database never closes the tunnels it could not see.
   */
  async #check(): Promise<void> {
    await this.#flushing;
    const held = new Set((await this.#o.store.sessionsOf(this.#o.replicaId)).map((r) => `${keyOf(r.agentId, r.role)}#${r.sessionId}`));
    const missing = [...this.#written].filter(([key, row]) => !this.#pending.has(key) && !held.has(`${key}#${row.sessionId}`)).map(([, row]) => row);
    if (missing.length > 0) {
      const lost = await this.#o.store.registerSessions(missing);
      const lostKeys = new Set(lost.map((l) => `${keyOf(l.agentId, l.role)}#${l.sessionId}`));
      if (missing.length > lost.length) this.#o.log.warn({ tunnels: missing.length - lost.length }, 'tunnel routes of this replica were gone (expired while the database was unreachable): written again');
      for (const row of missing) {
        const key = keyOf(row.agentId, row.role);
        if (!lostKeys.has(`${key}#${row.sessionId}`)) continue;
        this.#written.delete(key);
        this.#o.supersede(row.agentId, row.role, row.sessionId);
      }
    }
    const remote = new Map<string, number>();
    for (const r of await this.#o.store.remoteAgents(this.#o.replicaId, this.#o.now() - this.#o.timings.staleAfterMs)) remote.set(r.agentId, r.heartbeatAt);
    this.#remote = remote;
  }

  /**
   * A hint (LISTEN/NOTIFY, hints.ts) that another replica wrote tunnel routes: look again soon,
   * without waiting for the next beat. Hints within one flush window are one check.
   */
  checkSoon(): void {
    if (this.#checkTimer !== undefined || this.#stopped) return;
    // A reconnect storm sends a hint per flush window from every replica: at most one check per
    // quarter beat here (each reads the other replicas' rows), the rest waits for that one.
    const gap = Math.max(this.#o.timings.flushMs, this.#lastHintCheckAt + this.#o.timings.heartbeatMs / 4 - this.#o.now());
    this.#checkTimer = this.#o.timers.setTimeout(() => {
      this.#checkTimer = undefined;
      this.#lastHintCheckAt = this.#o.now();
      this.#checking = this.#checking.then(() => this.#check()).catch((err: unknown) => this.#o.log.warn({ err }, 'checking tunnel routes after a hint failed (the next beat checks again)'));
    }, gap);
  }

  /** Whether the last beat reached the database within `boundMs` (readiness of the replica). */
  healthy(boundMs: number): boolean {
    return this.#o.now() - this.lastBeatOkAt <= boundMs;
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
    if (this.#checkTimer !== undefined) this.#o.timers.clearTimeout(this.#checkTimer);
    await this.#flushing;
    await this.#checking;
    await this.#o.store.removeReplica(this.#o.replicaId).catch((err: unknown) => this.#o.log.error({ err }, 'removing the replica row failed'));
  }
}
