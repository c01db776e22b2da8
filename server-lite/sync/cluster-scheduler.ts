// Runs one kind of per-cluster work (RBAC push, Kubernetes facts pull) when something happens,
// never on a fixed period for every cluster: a kick (agent connected, bindings changed) runs the
// work soon; a transient failure is retried with exponential backoff and equal jitter up to a cap;
// a target the agent does not serve parks the cluster until its next kick; work that wants to run
// again (a periodic refresh) names its own delay. All clusters share one timer on the injected
// Clock (armed for the earliest due cluster) and a bound on work in flight, so a reconnect storm
// of 10k kicks becomes a queue, and an idle server with nothing due holds no timer at all.
// Decision 0800.
import type { Clock, TimerHandle } from '../../protocol/index.ts';
import { backoffDelay, type BackoffPolicy } from '../fleet/backoff.ts';
import { DueQueue } from './due-queue.ts';

/** What one run of the work found. */
export type WorkOutcome =
  /** Done; run again after `againInMs` (a periodic refresh), or only on the next kick. */
  | { readonly kind: 'done'; readonly againInMs?: number }
  /** Failed in a way that may pass (agent busy, timeout, 5xx): back off and retry. */
  | { readonly kind: 'retry' }
  /** Nothing to do until the next kick: no session, or the agent does not serve the target. */
  | { readonly kind: 'park' };

export interface ClusterSchedulerOptions {
  clock: Clock;
  /** A number in [0, 1), for jitter. */
  random: () => number;
  backoff: BackoffPolicy;
  /** At most this many runs in flight; the rest wait their turn. */
  concurrency: number;
  run: (clusterId: string) => Promise<WorkOutcome>;
  /** Told after every run (logging on state changes, metrics). */
  onOutcome?: (clusterId: string, outcome: WorkOutcome, failures: number) => void;
}

export class ClusterScheduler {
  readonly #o: ClusterSchedulerOptions;
  readonly #due = new DueQueue();
  /** clusterId → consecutive transient failures, only while the cluster is failing. */
  readonly #failures = new Map<string, number>();
  readonly #running = new Set<string>();
  /** Kicked while running: run again right after. */
  readonly #rerun = new Set<string>();
  #timer: TimerHandle | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #stopped = false;
  #idleWaiters: Array<() => void> = [];
  /** Runs started (tests, metrics). */
  runs = 0;

  constructor(opts: ClusterSchedulerOptions) {
    this.#o = opts;
  }

  /** Something changed for this cluster: run its work as soon as a slot is free. */
  kick(clusterId: string): void {
    if (this.#stopped) return;
    this.#failures.delete(clusterId);
    if (this.#running.has(clusterId)) {
      this.#rerun.add(clusterId);
      return;
    }
    this.#due.set(clusterId, this.#o.clock.now());
    this.#pump();
  }

  /** Forgets the cluster (deleted): no run is due any more. */
  forget(clusterId: string): void {
    this.#due.delete(clusterId);
    this.#failures.delete(clusterId);
    this.#rerun.delete(clusterId);
  }

  /** Clusters with a run scheduled (not counting those running). */
  get scheduled(): number {
    return this.#due.size;
  }

  /** Runs in flight. */
  get inFlight(): number {
    return this.#running.size;
  }

  /** Resolves once no run is in flight (tests step a manual clock, then wait for the I/O it started). */
  whenIdle(): Promise<void> {
    if (this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Consecutive transient failures of a cluster (0 when not failing). */
  failures(clusterId: string): number {
    return this.#failures.get(clusterId) ?? 0;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due.clear();
    this.#failures.clear();
    this.#rerun.clear();
  }

  #pump(): void {
    if (this.#stopped) return;
    const now = this.#o.clock.now();
    while (this.#running.size < this.#o.concurrency) {
      const id = this.#due.popDue(now);
      if (id === undefined) break;
      this.#start(id);
    }
    this.#arm();
  }

  /** One timer for the earliest due cluster; none while every slot is busy (a finishing run pumps). */
  #arm(): void {
    const at = this.#running.size < this.#o.concurrency ? this.#due.peekAt() : undefined;
    if (at === this.#timerAt) return;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (at === undefined) return;
    this.#timerAt = at;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#pump();
    }, Math.max(0, at - this.#o.clock.now()));
  }

  #start(id: string): void {
    this.#running.add(id);
    this.runs++;
    let outcome: Promise<WorkOutcome>;
    try {
      outcome = this.#o.run(id);
    } catch {
      outcome = Promise.resolve({ kind: 'retry' });
    }
    outcome.catch((): WorkOutcome => ({ kind: 'retry' })).then((o) => this.#finish(id, o));
  }

  #finish(id: string, outcome: WorkOutcome): void {
    this.#running.delete(id);
    if (this.#stopped) {
      if (this.#running.size === 0) for (const w of this.#idleWaiters.splice(0)) w();
      return;
    }
    const now = this.#o.clock.now();
    let failures = 0;
    if (outcome.kind === 'retry') {
      failures = (this.#failures.get(id) ?? 0) + 1;
      this.#failures.set(id, failures);
    } else this.#failures.delete(id);
    if (this.#rerun.delete(id)) {
      this.#failures.delete(id);
      this.#due.set(id, now);
    } else if (outcome.kind === 'retry') this.#due.set(id, now + backoffDelay(failures, this.#o.backoff, this.#o.random));
    else if (outcome.kind === 'done' && outcome.againInMs !== undefined) this.#due.set(id, now + outcome.againInMs);
    this.#o.onOutcome?.(id, outcome, failures);
    this.#pump();
    if (this.#running.size === 0) for (const w of this.#idleWaiters.splice(0)) w();
  }
}
