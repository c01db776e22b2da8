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

/**
 * Read once per data dir and kept: every cluster agent's connect asks (access-sync.ts), and the
 * file changes only through writeEndpointConfigs below, which refreshes the copy. Callers get a
 * copy of their own, so editing it changes nothing until it is written.
 */
const known = new Map<string, EndpointConfigs>();

export function readEndpointConfigs(dataDir: string): EndpointConfigs {
  let configs = known.get(dataDir);
  if (configs === undefined) {
    const file = join(accessDir(dataDir), 'endpoints.json');
    configs = existsSync(file) ? ((JSON.parse(readFileSync(file, 'utf8')) as { clusters?: EndpointConfigs }).clusters ?? {}) : {};
    known.set(dataDir, configs);
  }
  return structuredClone(configs);
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
  known.set(dataDir, structuredClone(clusters));
}
