// Group commit for agent statuses: drains from many agents that finish within a few milliseconds
// of each other are stored in one transaction (one fsync), each caller told its own count of new
// statuses once that transaction committed, so an agent is still acknowledged only after its
// statuses are on disk. After a mass reconnect this turns thousands of commits into dozens.
import type { FleetStore } from './fleet-store.ts';

type Rows = Parameters<FleetStore['recordStatuses']>[2];
type AppliedAt = Parameters<FleetStore['recordStatuses']>[3];

interface Pending {
  agentId: string;
  clusterId: string;
  rows: Rows;
  appliedAt: AppliedAt;
  resolve: (fresh: number) => void;
  reject: (err: unknown) => void;
}

export class StatusBatcher {
  readonly #store: FleetStore;
  readonly #delayMs: number;
  readonly #now: () => number;
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Transactions committed (tests, metrics). */
  commits = 0;

  constructor(store: FleetStore, delayMs: number, now: () => number = Date.now) {
    this.#store = store;
    this.#delayMs = delayMs;
    this.#now = now;
  }

  /** Resolves with how many of `rows` were new, after they are committed. */
  submit(agentId: string, clusterId: string, rows: Rows, appliedAt: AppliedAt): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ agentId, clusterId, rows, appliedAt, resolve, reject });
      this.#timer ??= setTimeout(() => this.flush(), this.#delayMs);
    });
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue.splice(0);
    if (batch.length === 0) return;
    let results: ({ ok: true; fresh: number } | { ok: false; err: unknown })[];
    try {
      const now = this.#now();
      // recordStatuses nests as a savepoint: one agent's bad batch rolls back alone and fails only
      // its own drain; the one commit is this transaction's.
      results = this.#store.db.transaction(() => batch.map((p) => {
        try {
          return { ok: true as const, fresh: this.#store.recordStatuses(p.agentId, p.clusterId, p.rows, p.appliedAt, now) };
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
      if (r?.ok) p.resolve(r.fresh);
      else p.reject(r?.err ?? new Error('status not stored'));
    });
  }
}
