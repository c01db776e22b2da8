// Answers what the installer fetches from the server (ARCHITECTURE.md §4): GET /install.sh,
// /v1/downloads/drover-linux-{amd64,arm64} and …/drover-linux-{amd64,arm64}.sha256. Self-contained
// (node: imports only) so server-lite can mount it: `if (handleDownload(req, res, opts)) return;`.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

export interface DownloadsOptions {
  /** Directory holding drover-linux-<arch>, optional .sha256 files and install.sh (e.g. dist/). */
  dir: string;
  /** Serve this file for a missing drover-linux-<arch>: a server running as the executable serves itself. */
  self?: { arch: 'amd64' | 'arm64'; path: string };
  /** install.sh to serve when `dir` has none. */
  installScript?: string;
  /** install.sh's bytes, e.g. from the executable itself (packaging/runtime/embedded.ts); used last. */
  installScriptBytes?: Uint8Array;
}

const ARTIFACT = /^\/v1\/downloads\/(drover-linux-(amd64|arm64))(\.sha256)?$/;

/** Checksums are cached per file identity, so a 100 MiB executable is hashed once, not per request. */
const shaCache = new Map<string, { key: string; sha: string }>();

function sha256Of(file: string, st: fs.Stats): string {
  const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
  const hit = shaCache.get(file);
  if (hit && hit.key === key) return hit.sha;
  const sha = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  shaCache.set(file, { key, sha });
  return sha;
}

function statFile(file: string | undefined): fs.Stats | undefined {
  if (!file) return undefined;
  try {
    const st = fs.statSync(file);
    return st.isFile() ? st : undefined;
  } catch {
    return undefined;
  }
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: string, st: fs.Stats, type: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': st.size, 'cache-control': 'no-cache' });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = fs.createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

const HEX64 = /^[0-9a-f]{64}$/;
/** Checksums files are tiny; anything larger is not one of ours. */
const MAX_SUMS_BYTES = 64 * 1024;

/**
 * The checksum the build published (`<name>.sha256`, else the `sha256sums` line), so an executable
 * altered on disk after the build no longer matches and the installer refuses it. Only when the
 * directory publishes none is the served file hashed.
 */
function publishedSha256(dir: string, name: string): string | undefined {
  const sources = [
    { file: path.join(dir, `${name}.sha256`), bareHashOk: true },
    { file: path.join(dir, 'sha256sums'), bareHashOk: false },
  ];
  for (const { file, bareHashOk } of sources) {
    const st = statFile(file);
    if (!st || st.size > MAX_SUMS_BYTES) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const [hex, listed] = line.trim().split(/\s+\*?/);
      if (hex && HEX64.test(hex) && (listed === name || (bareHashOk && listed === undefined))) return hex;
    }
  }
  return undefined;
}

function sendBytes(req: IncomingMessage, res: ServerResponse, body: Uint8Array, type: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': body.byteLength, 'cache-control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Which file serves `name` (drover-linux-<arch>): the directory first, then the running executable. */
function locate(opts: DownloadsOptions, name: string, arch: string): string | undefined {
  const inDir = path.join(opts.dir, name);
  if (statFile(inDir)) return inDir;
  if (opts.self && opts.self.arch === arch && statFile(opts.self.path)) return opts.self.path;
  return undefined;
}

/**
 * Handles the request if its path is one of ours and returns true; returns false otherwise so the
 * caller routes it on. Only fixed names are served: no path from the URL ever reaches the disk.
 */
export function handleDownload(req: IncomingMessage, res: ServerResponse, opts: DownloadsOptions): boolean {
  const pathname = new URL(req.url ?? '/', 'http://local').pathname;
  const match = ARTIFACT.exec(pathname);
  if (pathname !== '/install.sh' && !match) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendError(res, 405, 'METHOD_NOT_ALLOWED', `${pathname} answers GET and HEAD only`);
    return true;
  }
  if (!match) {
    const script = [path.join(opts.dir, 'install.sh'), opts.installScript].find((f) => statFile(f));
    const st = statFile(script);
    if (script && st) sendFile(req, res, script, st, 'text/x-shellscript; charset=utf-8');
    else if (opts.installScriptBytes) sendBytes(req, res, opts.installScriptBytes, 'text/x-shellscript; charset=utf-8');
    else sendError(res, 404, 'NOT_FOUND', 'this server has no install.sh to offer');
    return true;
  }
  const [, name = '', arch = '', sha] = match;
  const file = locate(opts, name, arch);
  const st = statFile(file);
  if (!file || !st) {
    sendError(res, 404, 'NOT_FOUND', `this server has no ${name}; copy it into its downloads directory`);
    return true;
  }
  if (!sha) {
    sendFile(req, res, file, st, 'application/octet-stream');
    return true;
  }
  // Same format as `sha256sum` (and dist/*.sha256): "<hex>  <name>\n".
  const published = file === opts.self?.path ? undefined : publishedSha256(opts.dir, name);
  sendBytes(req, res, Buffer.from(`${published ?? sha256Of(file, st)}  ${name}\n`), 'text/plain; charset=utf-8');
  return true;
}
