// Drift from watch events (issue 12): after every reconcile pass the fleet agent knows which
// objects it owns with correctDrift on; it keeps one label-selected watch per collection they live
// in (watch-scopes.ts, scope-watch.ts), and an event that shows one of them deleted or changed
// is corrected within DRIFT_DEBOUNCE_MS plus one apply, instead of at the next pass. Events in a
// burst are corrected together; a burst over DRIFT_TARGETED_MAX objects, or a gap in a watch
// (410 Gone, a failure), asks for a full pass instead. The periodic pass stays as the safety net.
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../../protocol/index.ts';
import type { Kube, WatchEvent, WatchScope } from './kube.ts';
import type { ResolvedObject } from './resolve.ts';
import type { DesiredDeployment } from './types.ts';
import { BUNDLE_LABEL } from './ownership.ts';
import { keyOf } from './object-ref.ts';
import { FLEET_AGENT_LIMITS } from './limits.ts';
import { ScopeWatch } from './scope-watch.ts';
import { eventKey, isDrift, scopeKey, watchScopes, type WatchedObject } from './watch-scopes.ts';

/** A deployment a pass observed at its desired revision, with its objects as resolved. */
export interface WatchedDeployment {
  deployment: DesiredDeployment;
  objects: readonly ResolvedObject[];
}

export interface DriftWatchDeps {
  kube: Kube;
  log: Logger;
  clock?: Clock;
  /** Re-applies the drifted objects (serialised with the passes by the reconciler). */
  correct(drifted: WatchedObject[]): Promise<readonly string[]>;
  /** Asks for a full pass soon (many objects drifted at once, or a watch may have missed events). */
  resync(): void;
}

export interface DriftWatchStats {
  scopes: number;
  objects: number;
  events: number;
  drifted: number;
  corrections: number;
  /** Objects actually re-applied by corrections (a stale event re-applies nothing). */
  reapplied: number;
  resyncs: number;
  relists: number;
}

/** Every object of every bundle carries the bundle label; one selector serves all of them. */
export const DRIFT_SELECTOR = BUNDLE_LABEL;

export class DriftWatch {
  readonly #d: DriftWatchDeps;
  readonly #clock: Clock;
  #index = new Map<string, WatchedObject>();
  readonly #watches = new Map<string, ScopeWatch>();
  #pending = new Map<string, WatchedObject>();
  #timer: TimerHandle | undefined;
  #stopped = false;
  readonly #stats = { events: 0, drifted: 0, corrections: 0, reapplied: 0, resyncs: 0 };

  constructor(deps: DriftWatchDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? systemClock;
  }

  /** Whether the Kubernetes client can watch at all (else the agent only polls). */
  static supported(kube: Kube): boolean {
    return typeof kube.watch === 'function' && typeof kube.collectionVersion === 'function';
  }

  stats(): DriftWatchStats {
    let relists = 0;
    for (const w of this.#watches.values()) relists += w.stats.relists;
    return { scopes: this.#watches.size, objects: this.#index.size, ...this.#stats, relists };
  }

  /**
   * After a pass: `observed` are the deployments it observed at their desired revision; `held` the
   * ids the store still holds (one not observed this time, e.g. the apiserver was away, keeps its
   * objects watched while its revision is unchanged).
   */
  update(observed: readonly WatchedDeployment[], held: ReadonlyMap<string, string>): void {
    if (this.#stopped) return;
    const next = new Map<string, WatchedObject>();
    const seen = new Set<string>();
    for (const { deployment: d, objects } of observed) {
      seen.add(d.id);
      if (d.options.correctDrift !== true) continue;
      for (const o of objects) {
        next.set(keyOf(o.ref), { deploymentId: d.id, bundle: d.bundle, revision: d.revision, object: o, comparePatches: d.options.comparePatches ?? [] });
      }
    }
    for (const [k, w] of this.#index) {
      if (!seen.has(w.deploymentId) && held.get(w.deploymentId) === w.revision && !next.has(k)) next.set(k, w);
    }
    this.#index = next;
    const wanted = new Map<string, WatchScope>(watchScopes([...next.values()].map((w) => w.object.ref)).map((s) => [scopeKey(s), s]));
    for (const [k, w] of this.#watches) {
      if (!wanted.has(k)) {
        w.stop();
        this.#watches.delete(k);
      }
    }
    for (const [k, scope] of wanted) {
      if (this.#watches.has(k)) continue;
      const w = new ScopeWatch({
        kube: this.#d.kube, scope, labelSelector: DRIFT_SELECTOR, log: this.#d.log, clock: this.#clock,
        onEvent: (e) => this.#onEvent(scope, e),
        onGap: () => this.#resync(),
      });
      this.#watches.set(k, w);
      w.start();
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const w of this.#watches.values()) w.stop();
    this.#watches.clear();
    this.#pending.clear();
  }

  #onEvent(scope: WatchScope, e: WatchEvent): void {
    this.#stats.events++;
    const key = eventKey(scope, e.object);
    const w = this.#index.get(key);
    if (w === undefined || !isDrift(w, e)) return;
    this.#stats.drifted++;
    this.#pending.set(key, w);
    // From the first event of a burst, not sliding: a steady trickle still flushes every period.
    this.#timer ??= this.#clock.setTimeout(() => this.#flush(), FLEET_AGENT_LIMITS.DRIFT_DEBOUNCE_MS);
  }

  #resync(): void {
    this.#stats.resyncs++;
    this.#d.resync();
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#stopped || this.#pending.size === 0) return;
    const drifted = [...this.#pending.values()];
    this.#pending = new Map();
    if (drifted.length > FLEET_AGENT_LIMITS.DRIFT_TARGETED_MAX) return this.#resync();
    this.#stats.corrections++;
    this.#d.correct(drifted).then((done) => { this.#stats.reapplied += done.length; }, (err: unknown) => {
      this.#d.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'drift correction from a watch event failed; the next pass retries');
    });
  }
}
