// For the fleet store's contract tests (issue 17): each test runs against SQLite (fleet.db in a temp
// dir, the default) and PostgreSQL (Debian's, started once per test file by test/pg/harness.ts, a
// new database per store, migrated by the main store as the server does), so both implementations
// are held to the same behaviour.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type Postgres } from './harness.ts';
import { PgStore } from '../../server-lite/store/pg-store.ts';
import { PgFleetStore } from '../../server-lite/fleet/pg-fleet-store.ts';
import { SqliteFleetStore } from '../../server-lite/fleet/sqlite-fleet-store.ts';
import type { FleetStore } from '../../server-lite/fleet/fleet-store.ts';

export interface FleetBackend {
  name: 'sqlite' | 'postgres';
  /** A new, empty store; closed by the backend's teardown. */
  open(): Promise<FleetStore>;
  /** A second store on the same database (another replica's view: its own connections). */
  reopen(store: FleetStore): Promise<FleetStore>;
  /** Rows in one of the store's tables (checks below the interface: blobs, not one big row). */
  count(store: FleetStore, table: string): Promise<number>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export function fleetBackends(t: Teardown): FleetBackend[] {
  const dir = mkdtempSync(join(tmpdir(), 'drover-fleet-store-'));
  let n = 0;
  const sqlite = new WeakMap<FleetStore, SqliteFleetStore>();
  const sqlitePaths = new WeakMap<FleetStore, string>();
  let pg: Promise<Postgres> | undefined;
  const pgStores = new WeakMap<FleetStore, PgStore>();
  const pgUrls = new WeakMap<FleetStore, string>();
  const closers: (() => Promise<void>)[] = [];
  t.teardown(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    if (pg) await (await pg).stop();
  });
  const openPg = async (url: string): Promise<FleetStore> => {
    const main = await PgStore.open(url);
    const s = await PgFleetStore.open(main.db);
    pgStores.set(s, main);
    pgUrls.set(s, url);
    closers.push(() => main.close());
    return s;
  };
  const openSqlite = (path: string): FleetStore => {
    const s = new SqliteFleetStore(path);
    sqlite.set(s, s);
    sqlitePaths.set(s, path);
    closers.push(() => s.close());
    return s;
  };
  return [
    {
      name: 'sqlite',
      async open() {
        return openSqlite(join(dir, `f${++n}.db`));
      },
      async reopen(store) {
        const path = sqlitePaths.get(store);
        if (!path) throw new Error('not a store of this backend');
        return openSqlite(path);
      },
      async count(store, table) {
        const s = sqlite.get(store);
        if (!s) throw new Error('not a store of this backend');
        return s.db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
      },
    },
    {
      name: 'postgres',
      async open() {
        pg ??= startPostgres();
        return openPg(await (await pg).createDatabase());
      },
      async reopen(store) {
        const url = pgUrls.get(store);
        if (!url) throw new Error('not a store of this backend');
        return openPg(url);
      },
      async count(store, table) {
        const main = pgStores.get(store);
        if (!main) throw new Error('not a store of this backend');
        return Number((await main.db.one(`SELECT COUNT(*) AS n FROM ${table}`))?.n ?? 0);
      },
    },
  ];
}
