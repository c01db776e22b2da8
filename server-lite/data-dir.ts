// The server's data directory: what lives where, the admin token (0600) and the server record
// (`server.json`: URL, CA file, CA hash) that lets admin commands on the host need only --data-dir.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomId, type RandomBytes } from './secrets.ts';

export const DEFAULT_DATA_DIR = '/var/lib/drover/server';

export const dataPaths = (dir: string) => ({
  dir,
  adminToken: join(dir, 'admin-token'),
  record: join(dir, 'server.json'),
  database: join(dir, 'server.db'),
  tls: join(dir, 'tls'),
  caFile: join(dir, 'tls', 'ca.crt'),
});

export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Loads the admin token, creating it (0600) on first start. */
export function ensureAdminToken(dir: string, random: RandomBytes): string {
  const path = dataPaths(dir).adminToken;
  if (existsSync(path)) {
    const token = readFileSync(path, 'utf8').trim();
    if (token.length >= 32) return token;
  }
  const token = `drover-admin-${randomId(random, 48)}`;
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return token;
}

export interface ServerRecord {
  url: string;
  caFile: string;
  caHash: string;
  pid: number;
}

export function writeServerRecord(dir: string, record: ServerRecord): void {
  const path = dataPaths(dir).record;
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}

export function readServerRecord(dir: string): ServerRecord | undefined {
  const path = dataPaths(dir).record;
  if (!existsSync(path)) return undefined;
  const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<ServerRecord>;
  if (typeof value.url !== 'string' || typeof value.caFile !== 'string') return undefined;
  return { url: value.url, caFile: value.caFile, caHash: String(value.caHash ?? ''), pid: Number(value.pid ?? 0) };
}
