// lastSeen bookkeeping: every frame from an agent marks it seen. Marks land in memory and are
// flushed to the store in one transaction per period, so 10k heartbeating agents cost one write
// batch, not 10k fsyncs. Readers merge memory and store (the newer wins).
import type { Store } from '../store/store.ts';

export class LastSeen {
  readonly #seen = new Map<string, number>();
  readonly #dirty = new Set<string>();

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

  async flush(store: Store): Promise<number> {
    if (this.#dirty.size === 0) return 0;
    const entries = [...this.#dirty].map((agentId) => ({ agentId, at: this.#seen.get(agentId) ?? 0 }));
    this.#dirty.clear();
    await store.touch(entries);
    return entries.length;
  }
}
