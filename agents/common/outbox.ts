// A durable, sequenced outbox in the agent's SQLite database, shared by the roles that report to
// the server (the fleet agent's statuses, the node agent's plan results): every row gets a sequence
// number that is never reused (AUTOINCREMENT), rows drain in sequence order and leave only when the
// server acknowledges a sequence, so the server can de-duplicate a row sent twice and never misses
// one. A row equal (by fingerprint) to the last one queued for the same key is not queued again.
// Bounded: past `maxRows`, the oldest rows that a newer row of the same key superseded are dropped
// (coalesced); the latest row of a key is never dropped. Each role owns its table; this owns the rule.
import type { Database } from 'better-sqlite3';

export interface OutboxTable {
  /** Table with `seq INTEGER PRIMARY KEY AUTOINCREMENT`, the key, `fingerprint`, the body, `created_at`, and the extras. */
  table: string;
  keyColumn: string;
  bodyColumn: string;
  /** Further columns written with each row and handed back by peek (e.g. revision, state). */
  extraColumns: readonly string[];
  /** `(key TEXT PRIMARY KEY, value TEXT)`: the last fingerprint per key and the coalesced count. */
  metaTable: string;
  maxRows: number;
}

export interface SeqRow {
  seq: number;
  key: string;
  createdAt: string;
  body: string;
  extras: Record<string, string>;
}

export interface SeqOutbox {
  /**
   * Queues a row unless its fingerprint equals the last one queued for `key`; returns its seq.
   * `also` runs inside the same transaction (a role's "latest state" row), only when queued.
   */
  enqueue(row: { key: string; fingerprint: string; body: string; extras?: Record<string, string> }, now: Date, also?: () => void): number | undefined;
  /** The oldest rows, in sequence order; they stay until acknowledged. */
  peek(limit: number): SeqRow[];
  /** The server has every row up to and including `seq`. Returns the rows removed. */
  ack(seq: number): number;
  length(): number;
  /** Rows dropped because a newer one of the same key superseded them. */
  coalesced(): number;
  /** Forgets the last fingerprint of a key (the key's history is gone; the next row is queued). */
  forget(key: string): void;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

export function createSeqOutbox(db: Database, t: OutboxTable): SeqOutbox {
  for (const id of [t.table, t.keyColumn, t.bodyColumn, t.metaTable, ...t.extraColumns]) {
    if (!IDENT.test(id)) throw new Error(`outbox: "${id}" is not a plain SQL identifier`);
  }
  const extras = t.extraColumns;
  const lastKey = (key: string): string => `outbox.last.${key}`;
  const meta = db.prepare(`SELECT value FROM ${t.metaTable} WHERE key = ?`).pluck();
  const setMeta = db.prepare(`INSERT INTO ${t.metaTable} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
  const delMeta = db.prepare(`DELETE FROM ${t.metaTable} WHERE key = ?`);
  const cols = [t.keyColumn, ...extras, 'fingerprint', t.bodyColumn, 'created_at'];
  const insert = db.prepare(`INSERT INTO ${t.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  const count = db.prepare(`SELECT COUNT(*) FROM ${t.table}`).pluck();
  // Superseded = a newer row of the same key exists; oldest first.
  const dropSuperseded = db.prepare(`DELETE FROM ${t.table} WHERE seq IN (
      SELECT o.seq FROM ${t.table} o
      WHERE EXISTS (SELECT 1 FROM ${t.table} n WHERE n.${t.keyColumn} = o.${t.keyColumn} AND n.seq > o.seq)
      ORDER BY o.seq LIMIT ?)`);
  const select = db.prepare(`SELECT seq, ${t.keyColumn} AS k, ${t.bodyColumn} AS b, created_at${extras.map((c) => `, ${c}`).join('')} FROM ${t.table} ORDER BY seq LIMIT ?`);
  const remove = db.prepare(`DELETE FROM ${t.table} WHERE seq <= ?`);
  const coalesced = (): number => Number(meta.get('outbox.coalesced') ?? 0);

  const enqueue = db.transaction((row: { key: string; fingerprint: string; body: string; extras?: Record<string, string> }, now: Date, also?: () => void): number | undefined => {
    if (meta.get(lastKey(row.key)) === row.fingerprint) return undefined;
    setMeta.run(lastKey(row.key), row.fingerprint);
    also?.();
    const info = insert.run(row.key, ...extras.map((c) => row.extras?.[c] ?? ''), row.fingerprint, row.body, now.toISOString());
    const excess = (count.get() as number) - t.maxRows;
    if (excess > 0) {
      const dropped = dropSuperseded.run(excess).changes;
      if (dropped > 0) setMeta.run('outbox.coalesced', String(coalesced() + dropped));
    }
    return Number(info.lastInsertRowid);
  });

  return {
    enqueue: (row, now, also) => enqueue(row, now, also),
    peek(limit) {
      const rows = select.all(limit) as Record<string, string | number>[];
      return rows.map((r) => ({
        seq: Number(r.seq), key: String(r.k), body: String(r.b), createdAt: String(r.created_at),
        extras: Object.fromEntries(extras.map((c) => [c, String(r[c] ?? '')])),
      }));
    },
    ack: (seq) => remove.run(seq).changes,
    length: () => count.get() as number,
    coalesced,
    forget: (key) => void delMeta.run(lastKey(key)),
  };
}
