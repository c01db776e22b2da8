// For the store's contract tests (issue 17): each test runs against SQLite (a file in a temp dir)
// and PostgreSQL (Debian's, started once per test file by test/pg/harness.ts, a new database per
// store), so both implementations are held to the same behaviour.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type Postgres } from './harness.ts';
import { PgStore } from '../../server-lite/store/pg-store.ts';
import { SqliteStore } from '../../server-lite/store/sqlite-store.ts';
import type { Store } from '../../server-lite/store/store.ts';

export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  /** A new, empty, migrated store (closed by the caller). */
  open(): Promise<Store>;
  /** A second handle on the same database as `store` (another process's view: own connections). */
  reopen(store: Store): Promise<Store>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export function storeBackends(t: Teardown): StoreBackend[] {
  const dir = mkdtempSync(join(tmpdir(), 'drover-store-'));
  let n = 0;
  const sqlitePaths = new WeakMap<Store, string>();
  let pg: Promise<Postgres> | undefined;
  const pgUrls = new WeakMap<Store, string>();
  t.teardown(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (pg) await (await pg).stop();
  });
  return [
    {
      name: 'sqlite',
      async open() {
        const path = join(dir, `s${++n}.db`);
        const s = new SqliteStore(path);
        sqlitePaths.set(s, path);
        return s;
      },
      async reopen(store) {
        const path = sqlitePaths.get(store);
        if (!path) throw new Error('not a store of this backend');
        return new SqliteStore(path);
      },
    },
    {
      name: 'postgres',
      async open() {
        pg ??= startPostgres();
        const url = await (await pg).createDatabase();
        const s = await PgStore.open(url);
        pgUrls.set(s, url);
        return s;
      },
      async reopen(store) {
        const url = pgUrls.get(store);
        if (!url) throw new Error('not a store of this backend');
        return PgStore.open(url);
      },
    },
  ];
}
