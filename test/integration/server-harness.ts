// Test support for server-lite integration tests: an in-process server on 127.0.0.1 port 0 with
// real HTTPS and a temp data dir, a raw HTTPS client, and a tiny test agent speaking the real
// tunnel protocol (protocol/index.ts) over a real WebSocket.
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { WebSocket } from 'ws';
import { attachWebSocket, MAX_WS_MESSAGE, offeredSubprotocols, type CapabilityName, type Session, type SessionCloseInfo } from '../../protocol/index.ts';
import { startServer, type RunningServer, type ServerDeps } from '../../server-lite/server.ts';
import { startPostgres, type Postgres } from '../pg/harness.ts';

export class TestClock {
  t: number;
  constructor(start = Date.parse('2026-11-24T08:00:00Z')) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export function tempDir(prefix = 'drover-server-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

let postgres: Promise<Postgres> | undefined;

/**
 * DROVER_TEST_PG=1 runs these servers on PostgreSQL (issue 17): one Debian PostgreSQL per test
 * process (test/pg/harness.ts, stopped when the process exits), a new database per server.
 */
async function testDatastore(): Promise<string | undefined> {
  if (process.env.DROVER_TEST_PG !== '1') return undefined;
  postgres ??= startPostgres();
  return (await postgres).createDatabase();
}

export async function startTestServer(
  deps: ServerDeps & { dataDir?: string; port?: number } = {},
): Promise<RunningServer & { dataDir: string }> {
  const { dataDir: given, port = 0, ...rest } = deps;
  const dataDir = given ?? tempDir();
  const datastore = await testDatastore();
  const server = await startServer(
    { dataDir, host: '127.0.0.1', port, tlsSans: [], ...(datastore ? { datastore } : {}) },
    { log: pino({ level: process.env.DROVER_TEST_LOG ?? 'silent' }), defaultMetrics: false, ...rest },
  );
  return Object.assign(server, { dataDir });
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** startTestServer for one tap test: closed and its data dir removed when the test ends. */
export async function serverForTest(
  t: { teardown(fn: () => unknown): void },
  deps: Parameters<typeof startTestServer>[0] = {},
): Promise<Awaited<ReturnType<typeof startTestServer>>> {
  const server = await startTestServer(deps);
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
  });
  return server;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as-is (string or bytes), with `contentType` if given. */
  raw?: string | Buffer;
  contentType?: string;
  bearer?: string;
  headers?: Record<string, string>;
}

export function api(server: { url: string; caPem: string }, method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
  const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  else if (opts.contentType) headers['content-type'] = opts.contentType;
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  if (payload !== undefined && headers['transfer-encoding'] === undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  return new Promise((resolve, reject) => {
    const req = https.request(`${server.url}${path}`, { method, ca: server.caPem, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export function errorCode(reply: Reply): string | undefined {
  return (reply.json as { error?: { code?: string } } | undefined)?.error?.code;
}

/** Creates a join token via the admin API; returns the full token and the `<id>.<secret>` part. */
export async function createToken(server: RunningServer, body: Record<string, unknown> = {}): Promise<{ full: string; secret: string; id: string }> {
  const r = await api(server, 'POST', '/v1/tokens', { body, bearer: server.adminToken });
  if (r.status !== 201) throw new Error(`token create failed: ${r.status} ${r.text}`);
  const full = (r.json as { token: string }).token;
  const secret = full.split('::')[1] ?? '';
  return { full, secret, id: secret.split('.')[0] ?? '' };
}

export interface Registered {
  agentId: string;
  clusterId: string;
  nodeId: string;
  credential: string;
  credentialExpiresAt: string;
}

export async function registerAgent(server: RunningServer, token: string, extra: Record<string, unknown> = {}): Promise<Registered> {
  const r = await api(server, 'POST', '/v1/register', {
    body: { token, roles: ['cluster', 'node', 'fleet'], hostname: 'edge-1', ...extra },
  });
  if (r.status !== 201) throw new Error(`register failed: ${r.status} ${r.text}`);
  return r.json as Registered;
}

export interface TestTunnel {
  ws: WebSocket;
  session: Session;
  /** Resolves when the protocol HELLO exchange completed. */
  ready: Promise<void>;
  /** Resolves with the WebSocket close code and reason. */
  closed: Promise<{ code: number; reason: string; info?: SessionCloseInfo }>;
  rotateHint: boolean;
}

export class UpgradeRefused extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string | string[] | undefined>;
  constructor(status: number, body: unknown, headers: Record<string, string | string[] | undefined>) {
    super(`upgrade refused with ${status}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** Opens a tunnel like an agent would; rejects with UpgradeRefused when the server says no. */
export function connectTunnel(
  server: { url: string; caPem: string },
  credential: string | undefined,
  role: string,
  opts: { protocols?: string[]; headers?: Record<string, string>; maskCapabilities?: CapabilityName[] } = {},
): Promise<TestTunnel> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'x-drover-role': role, ...opts.headers };
    if (credential !== undefined) headers.authorization = `Bearer ${credential}`;
    const ws = new WebSocket(`${server.url.replace(/^https/, 'wss')}/v1/connect`, opts.protocols ?? offeredSubprotocols(), {
      ca: server.caPem,
      headers,
      maxPayload: MAX_WS_MESSAGE,
      perMessageDeflate: false,
    });
    let rotateHint = false;
    ws.once('upgrade', (res) => {
      rotateHint = res.headers['x-drover-rotate-credential'] === '1';
    });
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        reject(new UpgradeRefused(res.statusCode ?? 0, body, res.headers));
      });
    });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.off('error', reject);
      const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString('utf8') })));
      const session = attachWebSocket(ws, { side: 'client', peer: { role, version: 'test' }, ...(opts.maskCapabilities ? { maskCapabilities: opts.maskCapabilities } : {}) });
      const ready = new Promise<void>((r, j) => {
        session.once('ready', () => r());
        session.once('close', (info) => j(new Error(`session closed before ready: ${info.code}`)));
      });
      ready.catch(() => {});
      resolve({ ws, session, ready, closed, rotateHint });
    });
  });
}

/** Polls `check` until it returns true (no wall-clock assertions: only a generous bound). */
export async function eventually(check: () => Promise<boolean> | boolean, what: string, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never became true: ${what}`);
}
