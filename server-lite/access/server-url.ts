// `drover server set-url URL [--keep-old DURATION]` on disk (issue 18): DIR/access/server-url.json
// holds the URL agents should use and until when they may fall back to the one they have. Pushed to
// agents by agent-settings-sync.ts; its host joins the serving certificate's names.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accessDir } from './endpoint-config.ts';

export interface ServerUrlChange {
  url: string;
  /** Epoch ms until which agents keep their previous URL as fallback; null: no fallback. */
  keepOldUntil: number | null;
  changedAt: number;
}

const file = (dataDir: string): string => join(accessDir(dataDir), 'server-url.json');

export function readServerUrlChange(dataDir: string): ServerUrlChange | undefined {
  const f = file(dataDir);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as ServerUrlChange) : undefined;
}

export function writeServerUrlChange(dataDir: string, change: ServerUrlChange): void {
  mkdirSync(accessDir(dataDir), { recursive: true, mode: 0o700 });
  const f = file(dataDir);
  writeFileSync(`${f}.tmp`, `${JSON.stringify(change, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${f}.tmp`, f);
}

/** `https://HOST[:PORT]` (no path), or a message naming what is wrong. */
export function checkServerUrl(text: string): { url: string; host: string } | string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return `${text}: not a URL; give https://HOST[:PORT]`;
  }
  if (u.protocol !== 'https:') return `${text}: the server URL must be https://`;
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || u.username) return `${text}: give only https://HOST[:PORT], no path, query or credentials`;
  return { url: u.origin, host: u.hostname.replace(/^\[(.*)\]$/, '$1') };
}
