// A PostgreSQL connection pool with the few calls the stores need: queries with `?` placeholders
// (dialect.ts), transactions on one pooled connection, and the schema migrations run under an
// advisory lock so replicas starting together apply each migration once. BIGINT columns come back
// as strings from pg; the row mappers convert with Number() as they do for SQLite.
import pg from 'pg';
import { numbered, schemaFor } from './dialect.ts';
import { MIGRATIONS } from './migrations.ts';

export type Row = Record<string, unknown>;
export type Arg = string | number | boolean | null | Buffer | readonly string[] | readonly number[] | readonly (string | null)[];

/** What a statement can run on: the pool (autocommit) or a transaction's connection. */
export interface Sql {
  rows(sql: string, args?: readonly Arg[]): Promise<Row[]>;
  one(sql: string, args?: readonly Arg[]): Promise<Row | undefined>;
  /** The number of rows changed. */
  run(sql: string, args?: readonly Arg[]): Promise<number>;
}

/** Advisory lock keys (pg_advisory_xact_lock): one per serialised concern. */
export const LOCKS = Object.freeze({ migrations: 0x44520001, audit: 0x44520002 });

const texts = new Map<string, string>();
const text = (sql: string, args: readonly Arg[]): string => {
  // Without arguments the text goes as is (simple protocol: several statements, no placeholders).
  if (args.length === 0) return sql;
  let t = texts.get(sql);
  if (t === undefined) {
    t = numbered(sql);
    // The store's fixed statements are cached; generated multi-row inserts (audit batches,
    // migrate) vary in length and are converted each time instead of filling the cache.
    if (sql.length <= 2000) texts.set(sql, t);
  }
  return t;
};

function on(q: pg.Pool | pg.PoolClient): Sql {
  if (!(q instanceof pg.Pool)) return serial(q);
  return {
    async rows(sql, args = []) {
      return (await q.query(text(sql, args), args as unknown[])).rows as Row[];
    },
    async one(sql, args = []) {
      return (await q.query(text(sql, args), args as unknown[])).rows[0] as Row | undefined;
    },
    async run(sql, args = []) {
      return (await q.query(text(sql, args), args as unknown[])).rowCount ?? 0;
    },
  };
}

/**
 * A transaction's connection runs one statement at a time: a second one started before the first
 * settled (a missing `await`, a Promise.all inside `tx`) is a bug — pg would queue it and warn
 * "client.query() when the client is already executing a query" (deprecated, removed in pg 9). It
 * fails here at once, naming the statement, instead.
 */
function serial(client: pg.PoolClient): Sql {
  let busy: string | undefined;
  const run = async <T>(sql: string, args: readonly Arg[], pick: (r: pg.QueryResult) => T): Promise<T> => {
    if (busy !== undefined) throw new Error(`one transaction ran two statements at once ("${sql.slice(0, 60)}" while "${busy.slice(0, 60)}" ran): await each statement in PgDb.tx`);
    busy = sql;
    try {
      return pick(await client.query(text(sql, args), args as unknown[]));
    } finally {
      busy = undefined;
    }
  };
  return {
    rows: (sql, args = []) => run(sql, args, (r) => r.rows as Row[]),
    one: (sql, args = []) => run(sql, args, (r) => r.rows[0] as Row | undefined),
    run: (sql, args = []) => run(sql, args, (r) => r.rowCount ?? 0),
  };
}

/** Hides the password of a postgres:// URL for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

export class PgDb implements Sql {
  readonly pool: pg.Pool;
  readonly #sql: Sql;
  /** The last connection error seen by the pool (for /readyz messages); cleared by a good query. */
  lastError: Error | undefined;

  constructor(url: string, opts: { max?: number } = {}) {
    // keepAlive: a connection to a database that vanished without closing it (network partition) is noticed.
    this.pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000, keepAlive: true });
    // An idle connection dropped by a database restart must not crash the process: the pool
    // discards it and the next query opens a new one.
    this.pool.on('error', (err) => {
      this.lastError = err;
    });
    this.#sql = on(this.pool);
  }

  rows(sql: string, args?: readonly Arg[]): Promise<Row[]> {
    return this.#sql.rows(sql, args);
  }
  one(sql: string, args?: readonly Arg[]): Promise<Row | undefined> {
    return this.#sql.one(sql, args);
  }
  run(sql: string, args?: readonly Arg[]): Promise<number> {
    return this.#sql.run(sql, args);
  }

  /** Runs fn in one READ COMMITTED transaction on one connection; rolls back when it throws. */
  async tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // The pool listens for errors of idle connections only: one that dies while checked out (the
    // database restarted mid-transaction) would otherwise raise an unhandled 'error' event.
    const onError = (err: Error): void => {
      broken = true;
      this.lastError = err;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      try {
        const out = await fn(on(client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw err;
      }
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  /** Applies pending migrations (one transaction, advisory lock); returns the schema version. */
  async migrate(): Promise<number> {
    await this.tx(async (sql) => {
      await sql.rows('SELECT pg_advisory_xact_lock(?)', [LOCKS.migrations]);
      await sql.run('CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const current = Number((await sql.one('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations'))?.v ?? 0);
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        // Several statements in one simple query (no parameters): PostgreSQL runs them in order.
        await sql.run(m.postgres ?? schemaFor(m.sql, 'postgres'));
        await sql.run('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', [m.version, Date.now()]);
      }
    });
    return MIGRATIONS.at(-1)?.version ?? 0;
  }

  #closed = false;

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end();
  }
}
