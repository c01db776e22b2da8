// Idle items kept for reuse, per key, bounded in count and in idle time (decision 1200): the pure
// bookkeeping of the keep-alive HTTP stream pool (http-stream-pool.ts), with the clock passed in so
// tests step idle timeouts with ManualClock. What an item is, how it is closed and when it may be
// put back are the caller's business; the pool only decides what is kept and what is closed.
import type { Clock, TimerHandle } from './clock.ts';

export interface IdlePoolOptions<T> {
  /** Idle items kept per key; one more put closes the oldest idle one. */
  maxIdlePerKey: number;
  /** An item idle this long is closed. */
  idleTimeoutMs: number;
  clock: Clock;
  /** Closes an item the pool lets go of (full, timed out, pool closed). Not called by `remove`. */
  close(item: T): void;
}

interface Entry<K, T> {
  key: K;
  item: T;
  timer: TimerHandle;
}

export class IdlePool<K, T> {
  readonly #o: IdlePoolOptions<T>;
  /** Per key, idle entries oldest first (take uses the newest: the others age out). */
  readonly #idle = new Map<K, Entry<K, T>[]>();
  readonly #byItem = new Map<T, Entry<K, T>>();
  #closed = false;

  constructor(o: IdlePoolOptions<T>) {
    if (!(o.maxIdlePerKey >= 0) || !(o.idleTimeoutMs > 0)) throw new RangeError('IdlePool: maxIdlePerKey ≥ 0 and idleTimeoutMs > 0');
    this.#o = o;
  }

  /** The most recently idled item of `key`, now in use (no longer idle), or undefined. */
  take(key: K): T | undefined {
    const list = this.#idle.get(key);
    const entry = list?.pop();
    if (entry === undefined) return undefined;
    if (list?.length === 0) this.#idle.delete(key);
    this.#byItem.delete(entry.item);
    this.#o.clock.clearTimeout(entry.timer);
    return entry.item;
  }

  /** Puts a healthy item back as idle. Returns false when it was closed instead (pool closed,
   *  no room: at the bound the oldest idle item is closed and this one kept). */
  put(key: K, item: T): boolean {
    if (this.#byItem.has(item)) return true;
    if (this.#closed || this.#o.maxIdlePerKey === 0) {
      this.#o.close(item);
      return false;
    }
    let list = this.#idle.get(key);
    if (list === undefined) this.#idle.set(key, (list = []));
    if (list.length >= this.#o.maxIdlePerKey) {
      const oldest = list.shift();
      if (oldest !== undefined) this.#drop(oldest, true);
    }
    const entry: Entry<K, T> = { key, item, timer: undefined };
    entry.timer = this.#o.clock.setTimeout(() => this.#drop(entry, true), this.#o.idleTimeoutMs);
    list.push(entry);
    this.#byItem.set(item, entry);
    return true;
  }

  /** An idle item that went bad on its own (closed, errored, reset): forgotten, not closed again.
   *  Returns whether it was idle here. */
  remove(item: T): boolean {
    const entry = this.#byItem.get(item);
    if (entry === undefined) return false;
    this.#drop(entry, false);
    return true;
  }

  /** Idle items of `key`, or of every key. */
  idleCount(key?: K): number {
    if (key !== undefined) return this.#idle.get(key)?.length ?? 0;
    return this.#byItem.size;
  }

  /** Closes every idle item; later puts close their item at once. */
  close(): void {
    this.#closed = true;
    for (const entry of [...this.#byItem.values()]) this.#drop(entry, true);
  }

  #drop(entry: Entry<K, T>, close: boolean): void {
    if (this.#byItem.get(entry.item) !== entry) return;
    this.#byItem.delete(entry.item);
    this.#o.clock.clearTimeout(entry.timer);
    const list = this.#idle.get(entry.key);
    if (list !== undefined) {
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.#idle.delete(entry.key);
    }
    if (close) this.#o.close(entry.item);
  }
}
