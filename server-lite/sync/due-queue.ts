// Keys with a due time, earliest first: a binary min-heap with lazy deletion, so rescheduling or
// dropping a key is O(log n) and nothing has to scan every connected cluster. Pure; no clock.

interface Entry {
  readonly key: string;
  readonly at: number;
  /** Insertion order: equal times come out first-in, first-out. */
  readonly seq: number;
}

export class DueQueue {
  readonly #heap: Entry[] = [];
  /** key → seq of its live entry; heap entries whose seq differs are stale and skipped. */
  readonly #live = new Map<string, number>();
  #seq = 0;

  get size(): number {
    return this.#live.size;
  }

  has(key: string): boolean {
    return this.#live.has(key);
  }

  /** Schedules `key` at `at`, replacing any earlier schedule of it. */
  set(key: string, at: number): void {
    const e: Entry = { key, at, seq: this.#seq++ };
    this.#live.set(key, e.seq);
    this.#push(e);
    // Stale entries are dropped as they surface; rebuild when they dominate the heap.
    if (this.#heap.length > 64 && this.#heap.length > 4 * this.#live.size) this.#compact();
  }

  delete(key: string): void {
    this.#live.delete(key);
    if (this.#live.size === 0) this.#heap.length = 0;
  }

  /** Due time of the earliest live key, undefined when empty. */
  peekAt(): number | undefined {
    this.#dropStale();
    return this.#heap[0]?.at;
  }

  /** Removes and returns the earliest key if it is due at `now`. */
  popDue(now: number): string | undefined {
    this.#dropStale();
    const top = this.#heap[0];
    if (top === undefined || top.at > now) return undefined;
    this.#pop();
    this.#live.delete(top.key);
    return top.key;
  }

  clear(): void {
    this.#heap.length = 0;
    this.#live.clear();
  }

  #dropStale(): void {
    for (let top = this.#heap[0]; top !== undefined && this.#live.get(top.key) !== top.seq; top = this.#heap[0]) this.#pop();
  }

  #compact(): void {
    const live = this.#heap.filter((e) => this.#live.get(e.key) === e.seq);
    this.#heap.length = 0;
    for (const e of live) this.#push(e);
  }

  static #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!DueQueue.#less(h[i] as Entry, h[p] as Entry)) break;
      [h[i], h[p]] = [h[p] as Entry, h[i] as Entry];
      i = p;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && DueQueue.#less(h[l] as Entry, h[m] as Entry)) m = l;
      if (r < h.length && DueQueue.#less(h[r] as Entry, h[m] as Entry)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m] as Entry, h[i] as Entry];
      i = m;
    }
  }
}
