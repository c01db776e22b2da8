// The tunnel protocol over real `ws` WebSockets on 127.0.0.1 (issue 3): streams, backpressure
// with bounded memory, a dead peer detected on both ends, and version refusal at the upgrade.
import t from 'tap';
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WebSocket, WebSocketServer } from 'ws';
import {
  attachWebSocket, openTunnel, MAX_WS_MESSAGE, offeredSubprotocols, selectSubprotocol, versionRefusal,
  type Session, type SessionLimits, type TunnelStream, type SessionCloseInfo,
} from '../../protocol/index.ts';

interface Harness {
  url: string;
  serverSessions: Session[];
  serverSockets: WebSocket[];
  close(): Promise<void>;
}

/** A tunnel endpoint like server-lite's: negotiate at the upgrade, refuse unknown majors with 400. */
async function startServer(opts: { limits?: Partial<SessionLimits>; onSession?: (s: Session) => void; acceptAnyProtocol?: boolean } = {}): Promise<Harness> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false, handleProtocols: (p) => (opts.acceptAnyProtocol ? ([...p][0] ?? false) : (selectSubprotocol(p) ?? false)) });
  const server = http.createServer((_req, res) => res.end());
  const serverSessions: Session[] = [];
  const serverSockets: WebSocket[] = [];
  server.on('upgrade', (req, socket: Socket, head) => {
    const offered = req.headers['sec-websocket-protocol'];
    if (!opts.acceptAnyProtocol && selectSubprotocol(offered) === undefined) {
      socket.end(versionRefusal(offered).httpResponse);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      serverSockets.push(ws);
      const s = attachWebSocket(ws, { side: 'server', peer: { role: 'server', version: '0.1.0' }, limits: opts.limits });
      serverSessions.push(s);
      opts.onSession?.(s);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/v1/connect`,
    serverSessions,
    serverSockets,
    async close() {
      for (const ws of serverSockets) ws.terminate();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

async function connect(url: string, limits?: Partial<SessionLimits>, protocols = offeredSubprotocols()): Promise<{ ws: WebSocket; session: Session }> {
  const ws = new WebSocket(url, protocols, { maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false });
  const session = await openTunnel(ws, { side: 'client', peer: { role: 'cluster', version: '0.1.0' }, limits });
  return { ws, session };
}

function source(total: number, chunk = 65536): Readable {
  let left = total;
  return new Readable({
    read() {
      const n = Math.min(chunk, left);
      left -= n;
      this.push(n > 0 ? Buffer.alloc(n, 0x5a) : null);
    },
  });
}

const closed = (s: Session) => new Promise<SessionCloseInfo>((r) => (s.closeInfo ? r(s.closeInfo) : s.once('close', r)));

t.test('ws: streams in both directions and many at once carry every byte', async (t) => {
  const h = await startServer({ onSession: (s) => s.on('stream', (st) => st.on('error', () => {}).pipe(st)) });
  t.teardown(() => h.close());
  const { session } = await connect(h.url);
  session.on('stream', (st) => st.on('error', () => {}).pipe(st));
  const one = async (from: Session, size: number) => {
    const s = from.openStream('echo');
    s.on('error', () => {});
    const done = pipeline(source(size, 30000), s);
    let n = 0;
    for await (const c of s) n += (c as Buffer).length;
    await done;
    return n;
  };
  t.equal(await one(session, 8 * 1024 * 1024), 8 * 1024 * 1024, 'agent-opened stream');
  t.equal(await one(h.serverSessions[0] as Session, 4 * 1024 * 1024), 4 * 1024 * 1024, 'server-opened stream');
  const many = await Promise.all(Array.from({ length: 50 }, () => one(session, 100_000)));
  t.same(new Set(many), new Set([100_000]), '50 concurrent streams');
  session.close();
});

t.test('ws: every byte arrives intact (sha256) in both directions while frame buffers are reused', async (t) => {
  const h = await startServer({ onSession: (s) => s.on('stream', (st) => st.on('error', () => {}).pipe(st)) });
  t.teardown(() => h.close());
  const { session } = await connect(h.url);
  const s = session.openStream('echo');
  s.on('error', () => {});
  const sent = createHash('sha256');
  const got = createHash('sha256');
  let x = 0x12345678;
  const chunks = function* () {
    for (let i = 0; i < 300; i++) {
      const b = Buffer.allocUnsafe(1 + ((i * 7919) % 150_000)); // odd sizes: full and partial frames
      for (let j = 0; j < b.length; j++) {
        x = (x * 1103515245 + 12345) >>> 0;
        b[j] = x >>> 24;
      }
      sent.update(b);
      yield b;
    }
  };
  const done = pipeline(Readable.from(chunks()), s);
  for await (const c of s) got.update(c as Buffer);
  await done;
  t.equal(got.digest('hex'), sent.digest('hex'));
  session.close();
});

t.test('ws: a reader that stops reading stalls the writer; memory stays bounded on both ends', async (t) => {
  const window = 256 * 1024;
  let serverStream: TunnelStream | undefined;
  let resolveStream: () => void = () => {};
  const gotStream = new Promise<void>((r) => (resolveStream = r));
  const h = await startServer({ limits: { streamWindow: window }, onSession: (s) => s.on('stream', (st) => {
    serverStream = st;
    st.on('error', () => {});
    st.pause();
    resolveStream();
  }) });
  t.teardown(() => h.close());
  const { session, ws } = await connect(h.url);
  const s = session.openStream('sink');
  s.on('error', () => {});
  const total = 64 * 1024 * 1024;
  const written = pipeline(source(total), s);
  await gotStream;
  // Let the writer run until it is stalled by the window (credit 0), however long the machine takes.
  while (s.stats().sendCredit > 0) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  const rs = (serverStream as TunnelStream).stats();
  const held = rs.queuedIn + rs.readableLength;
  const clientHeld = session.stats().bufferedBytes + s.writableLength + ws.bufferedAmount;
  t.ok(held <= window, `receiver holds ${held} bytes ≤ window ${window}`);
  t.ok(clientHeld <= 2 * 65536 + s.writableHighWaterMark, `sender holds ${clientHeld} bytes (chunk + Writable buffer)`);
  t.ok(session.stats().framesOut < 100, 'the writer stopped sending DATA');
  (serverStream as TunnelStream).resume();
  let n = 0;
  (serverStream as TunnelStream).on('data', (d: Buffer) => (n += d.length));
  await written;
  await new Promise((r) => ((serverStream as TunnelStream).readableEnded ? r(null) : (serverStream as TunnelStream).once('end', r)));
  t.equal(n, total, 'all bytes arrive once the reader resumes');
  session.close();
});

t.test('ws: a dead peer is detected on both ends; open streams error instead of hanging', async (t) => {
  const limits = { pingIntervalMs: 100, pingTimeoutMs: 200 };
  const serverStreamErrors: Promise<unknown>[] = [];
  const h = await startServer({ limits, onSession: (s) => s.on('stream', (st) => serverStreamErrors.push(new Promise((r) => st.once('error', r)))) });
  t.teardown(() => h.close());
  const { session } = await connect(h.url, limits);
  const streams = [session.openStream('a'), session.openStream('b')];
  const streamErrors = streams.map((s) => new Promise<{ code?: string }>((r) => s.once('error', r)));
  streams.forEach((s) => s.write('hello'));
  while (serverStreamErrors.length < 2) await new Promise((r) => setTimeout(r, 5));
  // The server process "freezes": its socket stops reading, so it neither sees PINGs nor PONGs.
  const raw = (h.serverSockets[0] as unknown as { _socket: Socket })._socket;
  raw.pause();
  const clientInfo = await closed(session);
  t.equal(clientInfo.code, 'PEER_TIMEOUT');
  t.equal(clientInfo.closeCode, 4002);
  for (const e of await Promise.all(streamErrors)) t.equal(e.code, 'PEER_TIMEOUT');
  const serverInfo = await closed(h.serverSessions[0] as Session);
  t.ok(['PEER_TIMEOUT', 'TRANSPORT_CLOSED'].includes(serverInfo.code), `server side closed too (${serverInfo.code})`);
  await Promise.all(serverStreamErrors);
});

t.test('ws: a dialler that attaches after an await pauses the socket on open and misses nothing', async (t) => {
  const h = await startServer({ onSession: (s) => s.on('stream', (st) => st.on('error', () => {}).pipe(st)) });
  t.teardown(() => h.close());
  for (let i = 0; i < 5; i++) {
    const ws = new WebSocket(h.url, offeredSubprotocols(), { maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false });
    await new Promise<void>((r) => ws.once('open', () => {
      ws.pause();
      r();
    }));
    await new Promise((r) => setTimeout(r, 20)); // the server's HELLO is already here
    const session = attachWebSocket(ws, { side: 'client', peer: { role: 'cluster', version: '0.1.0' } });
    await new Promise<void>((resolve, reject) => {
      session.once('ready', () => resolve());
      session.once('close', (info) => reject(new Error(info.message)));
    });
    t.equal(session.state, 'open');
    session.close();
  }
});

t.test('ws: a client offering only an unsupported major gets 400 listing the supported versions', async (t) => {
  const h = await startServer();
  t.teardown(() => h.close());
  const ws = new WebSocket(h.url, ['drover.v9']);
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    ws.once('unexpected-response', (_req, r) => resolve(r));
    ws.once('open', () => reject(new Error('should not open')));
    ws.once('error', () => {});
  });
  t.equal(res.statusCode, 400);
  t.equal(res.headers['x-drover-supported-protocols'], 'drover.v1');
  let body = '';
  for await (const c of res) body += String(c);
  const parsed = JSON.parse(body) as { error: { code: string; message: string; supported: string[] } };
  t.equal(parsed.error.code, 'UNSUPPORTED_VERSION');
  t.same(parsed.error.supported, ['drover.v1']);
  t.match(parsed.error.message, /drover\.v9/);
  ws.terminate();
});

t.test('ws: if an upgrade lands on an unsupported major anyway, the session closes with 4000 and the list', async (t) => {
  const h = await startServer({ acceptAnyProtocol: true });
  t.teardown(() => h.close());
  const ws = new WebSocket(h.url, ['drover.v9']);
  const [code, reason] = await new Promise<[number, string]>((r) => ws.once('close', (c, why) => r([c, why.toString()])));
  t.equal(code, 4000);
  t.match(reason, /supported: drover\.v1/);
});
