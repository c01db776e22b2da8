// Chooses the Store implementation from --datastore: SQLite in the data dir by default,
// `sqlite:///path/file.db` for another file, `postgres://…` (or `postgresql://…`) for PostgreSQL
// (issue 17: several replicas on one database; decision 1020).
import { dirname } from 'node:path';
import { writeDatastoreMarker } from './datastore-marker.ts';
import { PgStore } from './pg-store.ts';
import { redactUrl } from './pg-db.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

export class DatastoreError extends Error {
  override readonly name = 'DatastoreError';
}

/** The datastore is well-formed but cannot be opened now (unreachable, refused login): not a usage error. */
export class DatastoreUnavailableError extends Error {
  override readonly name = 'DatastoreUnavailableError';
}

export type DatastoreKind = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** Parses --datastore; throws DatastoreError (a usage error) for anything else. */
export function parseDatastore(datastore: string | undefined, defaultSqlitePath: string): DatastoreKind {
  if (datastore === undefined || datastore === '' || datastore === 'sqlite://' || datastore === 'sqlite:') return { kind: 'sqlite', path: defaultSqlitePath };
  if (datastore.startsWith('sqlite://')) return { kind: 'sqlite', path: datastore.slice('sqlite://'.length) };
  if (/^postgres(ql)?:\/\/./.test(datastore)) {
    try {
      new URL(datastore);
    } catch {
      throw new DatastoreError(`--datastore ${redactUrl(datastore)} is not a valid URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)`);
    }
    return { kind: 'postgres', url: datastore };
  }
  throw new DatastoreError(`--datastore must be sqlite:///PATH or postgres://…, got ${redactUrl(datastore)}`);
}

export async function openStore(datastore: string | undefined, defaultSqlitePath: string): Promise<Store> {
  const d = parseDatastore(datastore, defaultSqlitePath);
  // The data dir holds the default SQLite file; datastore.json there says where the state really is.
  const dataDir = dirname(defaultSqlitePath);
  if (d.kind === 'sqlite') {
    const store = new SqliteStore(d.path);
    writeDatastoreMarker(dataDir, 'sqlite');
    return store;
  }
  try {
    const store = await PgStore.open(d.url);
    writeDatastoreMarker(dataDir, 'postgres', d.url);
    return store;
  } catch (err) {
    throw new DatastoreUnavailableError(`cannot open the PostgreSQL datastore ${redactUrl(d.url)}: ${(err as Error).message}`);
  }
}
