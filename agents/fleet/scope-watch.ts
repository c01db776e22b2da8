// One drift watch: a label-selected watch of one collection, kept running. It starts from the
// collection's current resourceVersion (a one-item LIST, so no flood of ADDED events for what the
// last pass already saw), follows resourceVersions and bookmarks, resumes from the last one when the
// apiserver ends the watch, and relists after 410 Gone or a failure — then calls `onGap`, since
// events may have been missed, so the caller re-reads everything by a pass. Retries back off
// exponentially with full jitter; all timers run on the Clock passed in.
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../../protocol/index.ts';
import { backoffDelay, type BackoffOptions } from '../common/backoff.ts';
import type { Kube, WatchEvent, WatchScope } from './kube.ts';
import { FLEET_AGENT_LIMITS } from './limits.ts';
import { scopeKey } from './watch-scopes.ts';

const BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 60_000, stableAfterMs: 60_000, maxExponent: 6 };
/** A watch that ends sooner than this without one event (a proxy closing it) backs off before resuming. */
const MIN_QUIET_WATCH_MS = 1_000;

export interface ScopeWatchDeps {
  kube: Pick<Kube, 'collectionVersion' | 'watch'>;
  scope: WatchScope;
  labelSelector: string;
  log: Logger;
  clock?: Clock;
  random?: () => number;
  onEvent(e: WatchEvent): void;
  /** Events may have been missed (410 Gone, a failed watch): re-read the objects of this scope. */
  onGap(): void;
}

export class ScopeWatch {
  readonly #d: ScopeWatchDeps;
  readonly #clock: Clock;
  #running = false;
  #rv = '';
  #attempt = 0;
  #timer: TimerHandle | undefined;
  #current: { stop(): void } | undefined;
  /** Bumped on stop() and on every new request: answers of an earlier one are ignored. */
  #gen = 0;
  /** Counters for status pages and the benchmark. */
  readonly stats = { watches: 0, relists: 0, events: 0, bookmarks: 0 };

  constructor(deps: ScopeWatchDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? systemClock;
  }

  get resourceVersion(): string {
    return this.#rv;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#relist(false);
  }

  stop(): void {
    this.#running = false;
    this.#gen++;
    this.#clock.clearTimeout(this.#timer);
    this.#current?.stop();
    this.#current = undefined;
  }

  #later(fn: () => void, reason: string): void {
    if (!this.#running) return;
    const delay = backoffDelay({ attempt: this.#attempt++ }, BACKOFF, this.#d.random ?? Math.random);
    // Logged once per run of failures, not once per retry.
    if (this.#attempt === 1) this.#d.log.warn({ scope: scopeKey(this.#d.scope), reason }, 'drift watch interrupted; retrying with backoff');
    this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(fn, delay);
  }

  #relist(gap: boolean): void {
    if (!this.#running || !this.#d.kube.collectionVersion) return;
    const gen = ++this.#gen;
    this.stats.relists++;
    this.#d.kube.collectionVersion(this.#d.scope, { labelSelector: this.#d.labelSelector }).then((rv) => {
      if (gen !== this.#gen || !this.#running) return;
      this.#rv = rv;
      // Whatever changed before `rv` and after the last event seen is re-read by a pass.
      if (gap) this.#d.onGap();
      this.#watch();
    }, (err: Error) => {
      if (gen === this.#gen) this.#later(() => this.#relist(true), `relist: ${err.message}`);
    });
  }

  #watch(): void {
    if (!this.#running || !this.#d.kube.watch) return;
    const gen = ++this.#gen;
    const started = this.#clock.now();
    let events = 0;
    this.stats.watches++;
    // Jittered, so the watches of many agents and scopes do not all end in the same second.
    const timeoutSeconds = Math.round(FLEET_AGENT_LIMITS.WATCH_TIMEOUT_S * (0.8 + 0.4 * (this.#d.random ?? Math.random)()));
    const handle = this.#d.kube.watch(this.#d.scope, { labelSelector: this.#d.labelSelector, resourceVersion: this.#rv, timeoutSeconds }, {
      event: (e) => {
        if (gen !== this.#gen) return;
        const rv = e.object?.metadata?.resourceVersion;
        if (e.type === 'ERROR') {
          const code = (e.object as { code?: number }).code;
          handle.stop();
          if (code === 410) return this.#relist(true);
          return this.#later(() => this.#relist(true), `watch error ${code ?? ''}`);
        }
        events++;
        this.#attempt = 0;
        if (typeof rv === 'string' && rv !== '') this.#rv = rv;
        if (e.type === 'BOOKMARK') {
          this.stats.bookmarks++;
          return;
        }
        this.stats.events++;
        this.#d.onEvent(e);
      },
      end: (err) => {
        if (gen !== this.#gen || !this.#running) return;
        if (err?.status === 410) return this.#relist(true);
        if (err) return this.#later(() => this.#relist(true), err.message);
        // The apiserver's timeout: resume where we were (nothing missed).
        if (events === 0 && this.#clock.now() - started < MIN_QUIET_WATCH_MS) return this.#later(() => this.#watch(), 'the watch ended at once without an event');
        this.#watch();
      },
    });
    this.#current = handle;
  }
}
