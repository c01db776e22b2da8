// Group commit for the fleet store: writes submitted within a few milliseconds of each other share
// one transaction (one fsync), and each caller's promise settles after that commit. Each write runs
// in its own savepoint, so one bad item rolls back alone and fails only its own caller. Used for
// agents' statuses (acknowledged to the agent only after the commit) and for delivery
// acknowledgements: after a mass reconnect, thousands of commits become dozens.
import type { Database } from 'better-sqlite3';

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<T, R> {
  readonly #db: Database;
  readonly #delayMs: number;
  readonly #write: (item: T) => R;
  #queue: Pending<T, R>[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Transactions committed (tests, metrics). */
  commits = 0;

  constructor(db: Database, delayMs: number, write: (item: T) => R) {
    this.#db = db;
    this.#delayMs = delayMs;
    this.#write = write;
  }

  /** Settles with the write's result once the transaction holding it committed. */
  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#timer ??= setTimeout(() => this.flush(), this.#delayMs);
    });
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue.splice(0);
    if (batch.length === 0) return;
    const one = this.#db.transaction((item: T) => this.#write(item));
    let results: ({ ok: true; value: R } | { ok: false; err: unknown })[];
    try {
      results = this.#db.transaction(() => batch.map((p) => {
        try {
          return { ok: true as const, value: one(p.item) };
        } catch (err) {
          return { ok: false as const, err };
        }
      }))();
      this.commits++;
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (r?.ok) p.resolve(r.value);
      else p.reject(r?.ok === false ? r.err : new Error('not stored'));
    });
  }
}
