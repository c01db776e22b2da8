// Binds the benchmark's TunnelBinding (tunnel/harness.ts) to protocol/index.ts, the one place the
// benchmark touches the protocol: a ws server end that negotiates the subprotocol and attaches a
// session, an agent end that dials it, streams as Duplexes, HTTP through requestOverStream.

import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import {
  attachWebSocket,
  createStreamHttpServer,
  HttpStreamPool,
  systemClock,
  describeVersions,
  MAX_WS_MESSAGE,
  offeredSubprotocols,
  requestOverStream,
  selectSubprotocol,
} from '../../protocol/index.ts';
import type { Session, StreamHttpServer } from '../../protocol/index.ts';
import type { TunnelAgentSide, TunnelBinding, TunnelServerSide, StreamHandler } from './harness.ts';

const VERSION = '0.0.0-bench';

/** Experiment knobs (bench/README.md, "Experiments"): session limits other than the protocol's
 *  defaults, and a zero WebSocket mask on the agent's frames. Unset means the shipped defaults,
 *  which is what the budgets are judged on. Read from the environment so the agent child gets
 *  the same values. */
function experimentLimits(): { streamWindow?: number; transportHighWater?: number } {
  const n = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
  const streamWindow = n(process.env.DROVER_BENCH_STREAM_WINDOW);
  const transportHighWater = n(process.env.DROVER_BENCH_TRANSPORT_HIGH_WATER);
  return {
    ...(streamWindow === undefined ? {} : { streamWindow }),
    ...(transportHighWater === undefined ? {} : { transportHighWater }),
  };
}

/** An all-zero mask makes ws skip masking (RFC 6455 §5.3 still satisfied in form; it only
 *  guards browser-scripted traffic against proxy cache poisoning). Off unless asked for. */
const zeroMask = process.env.DROVER_BENCH_ZERO_MASK === '1' ? { generateMask: (mask: Buffer) => void mask.fill(0) } : {};

/** Resolves when both HELLOs are exchanged, rejects if the session closes first. */
function ready(session: Session): Promise<void> {
  return new Promise((resolve, reject) => {
    session.once('ready', () => resolve());
    session.once('close', (info) => reject(new Error(`session closed: ${info.code} ${info.message}`)));
  });
}

/** HTTP over the tunnel as the server's proxy sends it: down pooled keep-alive streams when the
 *  agent lists HTTP_KEEPALIVE (decision 1200), else a stream per request. The experiment knob
 *  DROVER_BENCH_HTTP_STREAM_PER_REQUEST=1 forces the latter, to compare the two in one build. */
function serverSide(session: Session): TunnelServerSide {
  const pool =
    session.has('HTTP_KEEPALIVE') && process.env.DROVER_BENCH_HTTP_STREAM_PER_REQUEST !== '1'
      ? new HttpStreamPool({ open: (t, m) => session.openStream(t, m), clock: systemClock })
      : undefined;
  return {
    openStream: (target) => Promise.resolve(session.openStream(target)),
    async httpRequest(target, path, body) {
      const req = { method: 'POST', path, headers: { 'content-type': 'application/octet-stream', 'content-length': body.length }, body };
      const result = pool !== undefined ? (await pool.request(target, req)).result : await requestOverStream(session.openStream(target), req);
      if (result.kind !== 'response') throw new Error('unexpected upgrade');
      const res = result.response;
      // Read the body exactly as lib/latency.ts directHttp does, so the two differ only by the tunnel.
      await new Promise<void>((resolve, reject) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () =>
          res.statusCode === 200 && n === body.length ? resolve() : reject(new Error(`echo answered ${res.statusCode} with ${n} bytes`)),
        );
        res.on('error', reject);
      });
    },
    async close() {
      pool?.close();
      session.close('NORMAL', 'benchmark done');
    },
  };
}

/** One stream-fed HTTP server per handler, created on first use. */
const httpServers = new Map<http.RequestListener, StreamHttpServer>();

export const binding: TunnelBinding = {
  name: `drover tunnel ${describeVersions().join(', ')}`,

  async listen() {
    const server = http.createServer();
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_WS_MESSAGE,
      perMessageDeflate: false,
      handleProtocols: (offered) => selectSubprotocol(offered) ?? false,
    });
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws)));
    const connected = new Promise<TunnelServerSide>((resolve, reject) => {
      wss.once('connection', (ws: WebSocket) => {
        const session = attachWebSocket(ws, { side: 'server', peer: { role: 'server', version: VERSION }, limits: experimentLimits() });
        ready(session).then(() => resolve(serverSide(session)), reject);
      });
    });
    connected.catch(() => undefined);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    return {
      url: `ws://127.0.0.1:${port}/v1/connect`,
      connected,
      async close() {
        for (const c of wss.clients) c.terminate();
        wss.close();
        await new Promise((r) => server.close(r));
      },
    };
  },

  serveHttp(stream, handler) {
    let server = httpServers.get(handler);
    if (server === undefined) {
      server = createStreamHttpServer({ request: handler });
      httpServers.set(handler, server);
    }
    server.serve(stream);
  },

  async connect(url: string, onStream: StreamHandler): Promise<TunnelAgentSide> {
    const ws = new WebSocket(url, offeredSubprotocols(), { maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false, ...zeroMask });
    // Attach and listen inside 'open' itself, synchronously: the server's HELLO can arrive (and
    // 'ready' fire) before an awaiting continuation would run, and an event nobody heard is lost.
    const session = await new Promise<Session>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => {
        const s = attachWebSocket(ws, {
          side: 'client',
          peer: { role: 'cluster', version: VERSION, name: 'bench' },
          limits: experimentLimits(),
        });
        s.on('stream', (st) => onStream(st.target, st));
        ready(s).then(() => resolve(s), reject);
      });
    });
    return {
      async close() {
        session.close('NORMAL', 'benchmark done');
      },
    };
  },
};
