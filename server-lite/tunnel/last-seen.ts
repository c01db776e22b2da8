// lastSeen bookkeeping: every frame from an agent marks it seen. Marks land in memory and are
// flushed to the store in one transaction per period, so 10k heartbeating agents cost one write
// batch, not 10k fsyncs. The periodic flush writes an agent again only once its lastSeen moved by
// LIMITS.lastSeenStoreResolutionMs (readers merge memory and store, the newer wins, so this
// server's answers stay exact; only what a restart finds is coarser). Shutdown and tests flush
// exactly.
import { LIMITS } from '../limits.ts';
import type { Store } from '../store/store.ts';

export class LastSeen {
  readonly #seen = new Map<string, number>();
  /** What the store holds (as far as this process wrote it). */
  readonly #stored = new Map<string, number>();
  readonly #dirty = new Set<string>();
  readonly #resolutionMs: number;

  constructor(resolutionMs: number = LIMITS.lastSeenStoreResolutionMs) {
    this.#resolutionMs = resolutionMs;
  }

  mark(agentId: string, at: number): void {
    const prev = this.#seen.get(agentId);
    if (prev !== undefined && prev >= at) return;
    this.#seen.set(agentId, at);
    this.#dirty.add(agentId);
  }

  get(agentId: string): number | undefined {
    return this.#seen.get(agentId);
  }

  /** The newer of the stored value and what is in memory. */
  merge(agentId: string, stored: number | null): number | null {
    const mem = this.#seen.get(agentId);
    if (mem === undefined) return stored;
    return stored === null || mem > stored ? mem : stored;
  }

  /** Writes what moved enough (or, `exact`, everything newer than the store) in one batch. */
  async flush(store: Store, exact = false): Promise<number> {
    if (this.#dirty.size === 0) return 0;
    const entries: Array<{ agentId: string; at: number }> = [];
    for (const agentId of this.#dirty) {
      const at = this.#seen.get(agentId) ?? 0;
      const stored = this.#stored.get(agentId);
      if (!exact && stored !== undefined && at - stored < this.#resolutionMs) continue;
      entries.push({ agentId, at });
      this.#dirty.delete(agentId);
      this.#stored.set(agentId, at);
    }
    if (entries.length > 0) await store.touch(entries);
    return entries.length;
  }
}
