// Singletons on one replica at a time (issue 17): each named lease is a database row with a holder
// and an expiry (store/replica-store.ts), tried and renewed every heartbeat. Its holder runs the
// singleton; a replica that dies stops renewing and another takes the lease once it expires (within
// HA_TIMINGS.leaseTtlMs plus one beat). A replica that cannot renew in time stops its singleton
// before the lease can pass to another, so two never run at once longer than clock skew allows.
import type { Logger } from 'pino';
import type { Clock as TimerClock, TimerHandle } from '../../protocol/index.ts';
import type { ReplicaStore } from '../store/replica-store.ts';
import type { HaTimings } from './limits.ts';

/** A singleton: started when this replica gains its lease, stopped when it loses it. */
export interface Singleton {
  name: string;
  start(): void;
  stop(): void | Promise<void>;
}

export interface LeaseRunnerOptions {
  store: ReplicaStore;
  holder: string;
  now: () => number;
  timers: TimerClock;
  timings: HaTimings;
  log: Logger;
  /** A lease was released (a hint for the other replicas: hints.ts). */
  released?: (name: string) => void;
}

export class LeaseRunner {
  readonly #o: LeaseRunnerOptions;
  readonly #singletons: Singleton[] = [];
  /** name → until when our last successful renewal holds it. */
  readonly #held = new Map<string, number>();
  #timer: TimerHandle | undefined;
  #stopped = false;
  #soon = false;
  /** The rounds run one after the other (the loop's and a hint's), never two at once. */
  #ticking: Promise<void> = Promise.resolve();

  constructor(o: LeaseRunnerOptions) {
    this.#o = o;
  }

  add(s: Singleton): void {
    this.#singletons.push(s);
  }

  /** Names of the leases this replica holds now (for /v1/… status and tests). */
  held(): string[] {
    return [...this.#held.keys()].sort();
  }

  /** One round: try or renew every lease; start what we gained, stop what we lost. */
  async tick(): Promise<void> {
    for (const s of this.#singletons) {
      if (this.#stopped) return;
      const now = this.#o.now();
      let ours = false;
      try {
        ours = await this.#o.store.acquireLease(s.name, this.#o.holder, now, this.#o.timings.leaseTtlMs);
      } catch (err) {
        this.#o.log.error({ err, lease: s.name }, 'lease renewal failed');
        // Unknown: keep running while our last renewal still holds, stop before it can pass on.
        ours = (this.#held.get(s.name) ?? 0) - this.#o.timings.heartbeatMs > this.#o.now();
        if (ours) continue;
      }
      const had = this.#held.has(s.name);
      if (ours) {
        this.#held.set(s.name, now + this.#o.timings.leaseTtlMs);
        if (!had) {
          this.#o.log.info({ lease: s.name, holder: this.#o.holder }, 'lease gained: this replica runs the singleton');
          s.start();
        }
      } else if (had) {
        this.#held.delete(s.name);
        this.#o.log.warn({ lease: s.name }, 'lease lost: stopping the singleton here');
        await s.stop();
      }
    }
  }

  /** A hint that a lease was released elsewhere: try now instead of at the next beat (serialised with the loop). */
  tickSoon(): Promise<void> {
    if (this.#stopped || this.#soon) return this.#ticking;
    this.#soon = true;
    this.#ticking = this.#ticking.then(async () => {
      this.#soon = false;
      await this.tick();
    }).catch((err: unknown) => this.#o.log.warn({ err }, 'lease round after a hint failed'));
    return this.#ticking;
  }

  #round(): Promise<void> {
    this.#ticking = this.#ticking.then(() => this.tick()).catch((err: unknown) => this.#o.log.warn({ err }, 'lease round failed'));
    return this.#ticking;
  }

  start(): void {
    const loop = (): void => {
      this.#timer = this.#o.timers.setTimeout(() => {
        void this.#round().finally(() => {
          if (!this.#stopped) loop();
        });
      }, this.#o.timings.heartbeatMs);
    };
    void this.#round().finally(() => {
      if (!this.#stopped) loop();
    });
  }

  /** Stops every singleton we run and releases its lease, so another replica takes it at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    await this.#ticking;
    for (const s of this.#singletons) {
      if (!this.#held.delete(s.name)) continue;
      await s.stop();
      await this.#o.store.releaseLease(s.name, this.#o.holder).then(
        () => this.#o.released?.(s.name),
        (err: unknown) => this.#o.log.error({ err, lease: s.name }, 'releasing the lease failed'),
      );
    }
  }
}
