// Cluster states over time: counts per state (Connected, Stale, Offline) sampled from the cluster
// snapshot at most once per SAMPLE_MS, kept for the last MAX_SAMPLES samples (24 h) in memory.
// Not stored: a server restart starts a new history (the clusters page says since when).
import type { HealthState } from '../health.ts';
import type { ClusterView } from '../views.ts';

export const SAMPLE_MS = 60_000;
export const MAX_SAMPLES = 1440;

export interface StateSample {
  at: number;
  counts: Record<HealthState, number>;
}

export function countStates(views: readonly ClusterView[]): Record<HealthState, number> {
  const counts: Record<HealthState, number> = { Connected: 0, Stale: 0, Offline: 0 };
  for (const v of views) counts[v.state] += 1;
  return counts;
}

export class StateHistory {
  readonly #samples: StateSample[] = [];
  readonly #max: number;
  readonly #everyMs: number;

  constructor(opts: { max?: number; everyMs?: number } = {}) {
    this.#max = opts.max ?? MAX_SAMPLES;
    this.#everyMs = opts.everyMs ?? SAMPLE_MS;
  }

  /** Records a sample unless the last one is younger than the sampling interval; true when recorded. */
  offer(at: number, views: readonly ClusterView[]): boolean {
    const last = this.#samples.at(-1);
    if (last && at - last.at < this.#everyMs) return false;
    this.#samples.push({ at, counts: countStates(views) });
    if (this.#samples.length > this.#max) this.#samples.splice(0, this.#samples.length - this.#max);
    return true;
  }

  samples(): readonly StateSample[] {
    return this.#samples;
  }
}
