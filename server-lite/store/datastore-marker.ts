// `DATA_DIR/datastore.json`: which datastore the server in this data dir last ran on, written at
// start (issue 17). Tools that read the data dir alone (`drover server backup`) look here first:
// after `server migrate` the old server.db is still in the data dir but no longer the server's
// state, and a backup of it would be silently stale. The URL is stored with its password masked.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactUrl } from './pg-db.ts';

export interface DatastoreMarker {
  kind: 'postgres';
  /** The URL without its password. */
  url: string;
}

const file = (dataDir: string): string => join(dataDir, 'datastore.json');

export function writeDatastoreMarker(dataDir: string, kind: 'sqlite' | 'postgres', url = ''): void {
  if (kind === 'sqlite') {
    rmSync(file(dataDir), { force: true });
    return;
  }
  const tmp = `${file(dataDir)}.tmp`;
  writeFileSync(tmp, JSON.stringify({ kind, url: redactUrl(url) } satisfies DatastoreMarker, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file(dataDir));
}

export function readDatastoreMarker(dataDir: string): DatastoreMarker | undefined {
  if (!existsSync(file(dataDir))) return undefined;
  try {
    const v = JSON.parse(readFileSync(file(dataDir), 'utf8')) as Partial<DatastoreMarker>;
    return v.kind === 'postgres' ? { kind: 'postgres', url: String(v.url ?? '') } : undefined;
  } catch {
    // Unreadable: assume the worst, the store is elsewhere.
    return { kind: 'postgres', url: '(unreadable datastore.json)' };
  }
}
