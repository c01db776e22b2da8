// Issue 25, measurement only: the part of better-sqlite3's API the agents use, over Node's built-in
// node:sqlite, so `DROVER_BUNDLE_SQLITE=node npm run package` builds an agent that never loads
// better-sqlite3's addon and bench/footprint.ts can compare the two in the real agent (decision
// 1141). Not shipped: the executables use better-sqlite3 (see that decision for why).
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';

type Params = unknown[];

function bind(args: Params): SQLInputValue[] {
  return args as SQLInputValue[];
}

class Statement {
  private plucked = false;
  private readonly st: StatementSync;
  constructor(st: StatementSync) {
    this.st = st;
  }

  pluck(on = true): this {
    this.plucked = on;
    return this;
  }

  run(...args: Params): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.st.run(...bind(args));
  }

  get(...args: Params): unknown {
    const row = this.st.get(...bind(args));
    return this.plucked && row !== undefined ? Object.values(row)[0] : row;
  }

  all(...args: Params): unknown[] {
    const rows = this.st.all(...bind(args));
    return this.plucked ? rows.map((r) => Object.values(r)[0]) : rows;
  }

  *iterate(...args: Params): IterableIterator<unknown> {
    for (const row of this.st.iterate(...bind(args))) yield this.plucked ? Object.values(row)[0] : row;
  }
}

type Tx<A extends unknown[], R> = ((...args: A) => R) & { immediate: (...args: A) => R; deferred: (...args: A) => R; exclusive: (...args: A) => R };

export default class Database {
  private readonly db: DatabaseSync;
  private depth = 0;

  constructor(file: string, opts: { readonly?: boolean; timeout?: number } = {}) {
    this.db = new DatabaseSync(file, { readOnly: opts.readonly === true, timeout: opts.timeout ?? 5000 });
  }

  get open(): boolean {
    return this.db.isOpen;
  }

  get inTransaction(): boolean {
    return this.db.isTransaction;
  }

  prepare(sql: string): Statement {
    return new Statement(this.db.prepare(sql));
  }

  exec(sql: string): this {
    this.db.exec(sql);
    return this;
  }

  pragma(text: string, opts: { simple?: boolean } = {}): unknown {
    const rows = this.db.prepare(`PRAGMA ${text}`).all();
    return opts.simple ? (rows[0] === undefined ? undefined : Object.values(rows[0])[0]) : rows;
  }

  transaction<A extends unknown[], R>(fn: (...args: A) => R): Tx<A, R> {
    const run = (begin: string) => (...args: A): R => {
      const nested = this.depth > 0;
      const sp = `drover_sp_${this.depth}`;
      this.db.exec(nested ? `SAVEPOINT ${sp}` : begin);
      this.depth++;
      try {
        const r = fn(...args);
        this.depth--;
        this.db.exec(nested ? `RELEASE ${sp}` : 'COMMIT');
        return r;
      } catch (err) {
        this.depth--;
        this.db.exec(nested ? `ROLLBACK TO ${sp}; RELEASE ${sp}` : 'ROLLBACK');
        throw err;
      }
    };
    return Object.assign(run('BEGIN'), { immediate: run('BEGIN IMMEDIATE'), deferred: run('BEGIN DEFERRED'), exclusive: run('BEGIN EXCLUSIVE') });
  }

  close(): this {
    if (this.db.isOpen) this.db.close();
    return this;
  }
}
