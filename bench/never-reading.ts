// Issue 14, finding 8: what a tunnel client that floods stream OPENs and never reads its socket
// costs the server. Starts `drover server` as its own process, registers an agent, opens a tunnel,
// stops reading, sends OPENs as fast as the socket takes them, and prints the server's peak RSS
// (VmHWM) over its RSS before, the close code the server ended the session with, and how many
// OPENs it took. A figure, not a test: `node bench/never-reading.ts`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WebSocket } from 'ws';
import { encodeFrame, MAX_WS_MESSAGE, offeredSubprotocols } from '../protocol/index.ts';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'drover-never-reading-'));
const port = 20_000 + Math.floor(Math.random() * 20_000);
const server = spawn(process.execPath, [join(root, 'cli/main.ts'), 'server', '--data-dir', dir, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'inherit'] });
const url = `https://127.0.0.1:${port}`;

const kib = (line: string): number => Number(/(\d+) kB/.exec(line)?.[1] ?? 0);
function memory(): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8').split('\n');
  return { rss: kib(status.find((l) => l.startsWith('VmRSS')) ?? ''), hwm: kib(status.find((l) => l.startsWith('VmHWM')) ?? '') };
}

function call(method: string, path: string, ca: string, body?: unknown, bearer?: string): Promise<{ status: number; json: unknown }> {
  return new Promise((ok, fail) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) });
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const req = https.request(`${url}${path}`, { method, ca, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString());
        } catch {
          json = undefined;
        }
        ok({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', fail);
    req.end(payload);
  });
}

async function main(): Promise<void> {
  let ca = '';
  for (let i = 0; i < 200 && !ca; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      ca = readFileSync(join(dir, 'tls', 'ca.crt'), 'utf8');
      await call('GET', '/healthz', ca);
    } catch {
      ca = '';
    }
  }
  const admin = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
  const token = ((await call('POST', '/v1/tokens', ca, {}, admin)).json as { token: string }).token.split('::')[1];
  const reg = (await call('POST', '/v1/register', ca, { token, roles: ['cluster'], hostname: 'hostile' })).json as { credential: string };
  await new Promise((r) => setTimeout(r, 1000));
  const before = memory();

  const ws = new WebSocket(`${url.replace('https', 'wss')}/v1/connect`, offeredSubprotocols(), {
    ca, headers: { authorization: `Bearer ${reg.credential}`, 'x-drover-role': 'cluster' }, maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false,
  });
  await new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('error', fail);
  });
  // Our HELLO, then never read again: the server's HELLO, PINGs and every answer stay unread.
  ws.send(encodeFrame({ type: 'HELLO', hello: { major: 1, minor: 0, streamWindow: 512 * 1024, maxDataPayload: 64 * 1024, maxStreams: 1024, capabilities: [], peer: { role: 'cluster', version: 'hostile' } } }));
  ws.pause();
  const closed = new Promise<{ code: number; reason: string }>((ok) => ws.once('close', (code, reason) => ok({ code, reason: reason.toString() })));
  let opens = 0;
  let done = false;
  void closed.then(() => (done = true));
  let id = 1;
  // Bounded run: stop after 60 s or 2 million OPENs if the server never closes the session.
  const deadline = Date.now() + 60_000;
  while (!done && opens < 2_000_000 && Date.now() < deadline) {
    for (let i = 0; i < 500 && ws.readyState === ws.OPEN; i++, opens++, id += 2) {
      ws.send(encodeFrame({ type: 'OPEN', streamId: id, target: 'http:anything', metadata: {} }));
    }
    await new Promise((r) => setImmediate(r));
    if (ws.bufferedAmount > 8 * 1024 * 1024) await new Promise((r) => setTimeout(r, 10));
  }
  ws.resume();
  const result = await Promise.race([closed, new Promise<{ code: number; reason: string }>((ok) => setTimeout(() => ok({ code: 0, reason: 'still open' }), 45_000))]);
  const after = memory();
  console.log(JSON.stringify({
    opensSent: opens,
    closeCode: result.code,
    closeReason: result.reason,
    serverRssBeforeMiB: +(before.rss / 1024).toFixed(1),
    serverPeakRssMiB: +(after.hwm / 1024).toFixed(1),
    growthMiB: +((after.hwm - before.rss) / 1024).toFixed(1),
  }));
  ws.terminate();
}

try {
  await main();
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
