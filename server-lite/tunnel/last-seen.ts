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
  /** Marked and never written by this process: written at the next flush. */
  readonly #fresh = new Set<string>();
  /** Written before and marked since: written once moved by the resolution. */
  readonly #dirty = new Set<string>();
  readonly #resolutionMs: number;
  /** Newest mark, and the newest mark when #dirty was last scanned (mark times, the server's clock). */
  #latest = 0;
  #scannedAt = Number.NEGATIVE_INFINITY;

  constructor(resolutionMs: number = LIMITS.lastSeenStoreResolutionMs) {
    this.#resolutionMs = resolutionMs;
  }

  mark(agentId: string, at: number): void {
    const prev = this.#seen.get(agentId);
    if (prev !== undefined && prev >= at) return;
    this.#seen.set(agentId, at);
    if (this.#stored.has(agentId)) this.#dirty.add(agentId);
    else this.#fresh.add(agentId);
    if (at > this.#latest) this.#latest = at;
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

  /**
   * Writes what moved enough (or, `exact`, everything newer than the store) in one batch. Agents
   * this process never wrote go at once; the others (every connected agent is marked by its PING
   * every 30 s, so all of them stay in #dirty) are scanned at most every quarter resolution, not
   * on every flush: at 20,000 idle tunnels the scan every 5 s was a cost that grew with tunnels
   * while nothing happened (issue 12). The store's value then lags by at most 1.25 × resolution.
   */
  async flush(store: Store, exact = false): Promise<number> {
    const entries: Array<{ agentId: string; at: number }> = [];
    const take = (agentId: string): void => {
      const at = this.#seen.get(agentId) ?? 0;
      entries.push({ agentId, at });
      this.#stored.set(agentId, at);
    };
    for (const agentId of this.#fresh) take(agentId);
    this.#fresh.clear();
    if (exact || this.#latest - this.#scannedAt >= this.#resolutionMs / 4) {
      this.#scannedAt = this.#latest;
      for (const agentId of this.#dirty) {
        const at = this.#seen.get(agentId) ?? 0;
        const stored = this.#stored.get(agentId) ?? Number.NEGATIVE_INFINITY;
        if (!exact && at - stored < this.#resolutionMs) continue;
        this.#dirty.delete(agentId);
        take(agentId);
      }
    }
    if (entries.length > 0) await store.touch(entries);
    return entries.length;
  }
}
