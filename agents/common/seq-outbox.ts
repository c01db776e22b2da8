// A sequence-numbered outbox in the agent's SQLite database, with the fleet outbox's contract
// (agents/fleet/outbox.ts, decision 0651): every entry gets a sequence number that is never reused
// (AUTOINCREMENT), entries drain in order and leave only when the server acknowledges a sequence,
// so the server can de-duplicate an entry sent twice and never misses one. Unlike fleet statuses,
// entries here are not superseded by newer ones (audit rows), so the bound drops the oldest and
// counts them; the count travels with the next drain so the loss is never silent.
import type { Database } from 'better-sqlite3';

export interface SeqOutboxRow<T> {
  seq: number;
  createdAt: string;
  entry: T;
}

export interface SeqOutbox<T> {
  enqueue(entry: T, now: Date): number;
  /** The oldest rows, in sequence order; they stay until acknowledged. */
  peek(limit: number): SeqOutboxRow<T>[];
  /** The server has every row up to and including `seq`. Returns the rows removed. */
  ack(seq: number): number;
  length(): number;
  /** Entries dropped (oldest first) because the outbox was full. */
  dropped(): number;
}

/** `table` needs (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT, created_at TEXT); `meta` (key, value). */
export function createSeqOutbox<T>(db: Database, o: { table: string; meta: string; maxRows: number }): SeqOutbox<T> {
  if (!/^[a-z_]+$/.test(o.table) || !/^[a-z_]+$/.test(o.meta)) throw new RangeError('table names are [a-z_]+');
  const insert = db.prepare(`INSERT INTO ${o.table} (body, created_at) VALUES (?, ?)`);
  const count = db.prepare(`SELECT COUNT(*) FROM ${o.table}`).pluck();
  const dropOldest = db.prepare(`DELETE FROM ${o.table} WHERE seq IN (SELECT seq FROM ${o.table} ORDER BY seq LIMIT ?)`);
  const select = db.prepare(`SELECT seq, body, created_at FROM ${o.table} ORDER BY seq LIMIT ?`);
  const remove = db.prepare(`DELETE FROM ${o.table} WHERE seq <= ?`);
  const getMeta = db.prepare(`SELECT value FROM ${o.meta} WHERE key = ?`).pluck();
  const setMeta = db.prepare(`INSERT INTO ${o.meta} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
  const dropped = (): number => Number(getMeta.get(`${o.table}.dropped`) ?? 0);
  const enqueue = db.transaction((entry: T, now: Date): number => {
    const info = insert.run(JSON.stringify(entry), now.toISOString());
    const excess = (count.get() as number) - o.maxRows;
    if (excess > 0) setMeta.run(`${o.table}.dropped`, String(dropped() + dropOldest.run(excess).changes));
    return Number(info.lastInsertRowid);
  });
  return {
    enqueue: (entry, now) => enqueue(entry, now),
    peek(limit) {
      const rows = select.all(limit) as { seq: number; body: string; created_at: string }[];
      return rows.map((r) => ({ seq: r.seq, createdAt: r.created_at, entry: JSON.parse(r.body) as T }));
    },
    ack: (seq) => remove.run(seq).changes,
    length: () => count.get() as number,
    dropped,
  };
}
