// Chooses the Store implementation from --datastore: SQLite in the data dir by default,
// `sqlite:///path/file.db` for another file; `postgres://…` is reserved for the HA store (later issue).
import { SqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

export class DatastoreError extends Error {
  override readonly name = 'DatastoreError';
}

export function openStore(datastore: string | undefined, defaultSqlitePath: string): Store {
  if (datastore === undefined || datastore === '' || datastore === 'sqlite://' || datastore === 'sqlite:') {
    return new SqliteStore(defaultSqlitePath);
  }
  if (datastore.startsWith('sqlite://')) return new SqliteStore(datastore.slice('sqlite://'.length));
  if (/^postgres(ql)?:\/\//.test(datastore)) {
    throw new DatastoreError('--datastore postgres://… is not implemented yet (PostgreSQL store is a later issue); omit it to use SQLite');
  }
  throw new DatastoreError(`--datastore must be sqlite:///PATH or postgres://…, got ${datastore.replace(/\/\/[^@]*@/, '//***@')}`);
}

