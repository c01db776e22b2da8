// Which clusters have a local endpoint, and where it listens (issue 18): a small JSON document in
// DIR/access/endpoints.json, replaced atomically (write, fsync, rename). A file of its own rather
// than tables in the shared store (decision 0950): it changes only on `drover cluster endpoint`,
// and the access work stays out of the datastore interface both SQLite and PostgreSQL implement.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface EndpointConfig {
  enabled: boolean;
  listen: string;
  fqdn: string | null;
  updatedAt: number;
}

export type EndpointConfigs = Record<string, EndpointConfig>;

export const accessDir = (dataDir: string): string => join(dataDir, 'access');

export function readEndpointConfigs(dataDir: string): EndpointConfigs {
  const file = join(accessDir(dataDir), 'endpoints.json');
  if (!existsSync(file)) return {};
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { clusters?: EndpointConfigs };
  return doc.clusters ?? {};
}

export function writeEndpointConfigs(dataDir: string, clusters: EndpointConfigs): void {
  const dir = accessDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'endpoints.json');
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ clusters }, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
