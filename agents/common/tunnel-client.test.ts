// The tunnel client against a real TLS WebSocket server on 127.0.0.1 (port 0) running the real
// protocol session: facts and heartbeats arrive; a flapping link keeps backing off; a connection
// that stayed up resets the backoff; Retry-After is honoured; a revoked credential retries at the
// cap. The wall clock the client sees is injected, so "stayed up long enough" is deterministic.
import t from 'tap';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { attachWebSocket, type ControlMessage, type Session } from '../../protocol/index.ts';
import { TunnelClient, type TunnelState } from './tunnel-client.ts';
import { silentLogger } from './logger.ts';
import { selfSignedCert, waitUntil } from './test-fixtures.ts';

type Mode = 'session' | 'overloaded' | 'revoked';

async function testServer(dir: string) {
  const { key, cert } = selfSignedCert(dir);
  const srv = https.createServer({ key, cert });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('drover.v1') ? 'drover.v1' : false) });
  const state = { mode: 'session' as Mode, sessions: [] as { ws: WebSocket; session: Session }[], messages: [] as ControlMessage[], auth: [] as string[] };
  srv.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    state.auth.push(`${req.headers.authorization} ${req.headers['x-drover-role']}`);
    if (state.mode === 'overloaded') {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nretry-after: 7\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":{"code":"OVERLOADED","message":"busy"}}');
      return;
    }
    if (state.mode === 'revoked') {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":{"code":"CREDENTIAL_REVOKED","message":"revoked"}}');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = attachWebSocket(ws, { side: 'server', peer: { role: 'server', version: 'test' } });
      session.on('message', (m) => state.messages.push(m));
      state.sessions.push({ ws, session });
    });
  });
  srv.listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  return { url: `https://127.0.0.1:${(srv.address() as AddressInfo).port}`, cert, state, close: () => srv.close() };
}

t.test('tunnel client against a real TLS WebSocket server', async (t) => {
  const server = await testServer(t.testdir());
  t.teardown(server.close);
  const clock = { now: 1_000_000 };
  const states: TunnelState[] = [];
  const client = new TunnelClient({
    serverUrl: server.url, role: 'fleet', agentId: 'a-test', agentVersion: '9.9.9',
    credential: () => 'a-test.secret', ca: server.cert, agent: undefined,
    backoff: { baseMs: 20, capMs: 1000, stableAfterMs: 60_000, maxExponent: 30 },
    random: () => 0.5, now: () => clock.now, logger: silentLogger(),
    facts: async () => ({ hostname: 'h', os: 'linux', arch: 'amd64', agentVersion: '9.9.9' }),
    onState: (s) => states.push(s), heartbeatIntervalMs: 20,
    onStream: (stream) => {
      // An echo service, standing in for the cluster role's Kubernetes proxy.
      stream.on('data', (d: Buffer) => stream.write(Buffer.concat([Buffer.from(`${stream.target}:`), d])));
      stream.on('end', () => stream.end());
    },
  });
  t.teardown(() => client.stop());
  const delays = (): number[] => states.flatMap((s) => (s.state === 'disconnected' && s.retryInMs !== undefined ? [s.retryInMs] : []));
  const lastError = (): string => {
    const s = states.findLast((x) => x.state === 'disconnected');
    return s?.state === 'disconnected' ? s.lastError : '';
  };

  client.start();
  await waitUntil(() => client.state.state === 'connected' && server.state.messages.some((m) => m.kind === 'heartbeat'));
  t.equal(server.state.auth[0], 'Bearer a-test.secret fleet', 'bearer credential and role header');
  t.match(server.state.messages.find((m) => m.kind === 'facts'), { body: { hostname: 'h', agentVersion: '9.9.9' } }, 'facts sent at connect');

  await t.test('streams the server opens on the tunnel reach onStream', async (t) => {
    const stream = server.state.sessions.at(-1)!.session.openStream('test:echo');
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.end('ping');
    await new Promise((r) => stream.once('end', r));
    t.equal(Buffer.concat(chunks).toString(), 'test:echo:ping');
  });

  await t.test('a flapping link keeps backing off: each short-lived connection doubles the wait', async (t) => {
    for (let i = 0; i < 4; i++) {
      const n = server.state.sessions.length;
      await waitUntil(() => client.state.state === 'connected' && server.state.sessions.length === n);
      clock.now += 1000; // up for 1 s: well short of stableAfter
      server.state.sessions.at(-1)!.ws.close(1011, 'flap');
      await waitUntil(() => server.state.sessions.length === n + 1);
    }
    t.same(delays().slice(0, 4), [20, 40, 80, 160], 'full-jitter ceiling doubles: 0.5 * 40, 80, 160, 320');
    t.match(lastError(), 'TUNNEL_CLOSED');
  });

  await t.test('"disconnected since" is when the outage began, not the latest retry', async (t) => {
    await waitUntil(() => client.state.state === 'connected');
    server.state.mode = 'revoked';
    const wentDownAt = (clock.now += 1000);
    server.state.sessions.at(-1)!.ws.close(1011, 'down');
    await waitUntil(() => states.filter((s) => s.state === 'disconnected' && s.since === wentDownAt).length >= 1);
    clock.now += 5000;
    const outage = (): TunnelState[] => states.filter((s) => s.state === 'disconnected' && s.since === wentDownAt);
    await waitUntil(() => outage().length >= 2, 5000);
    const later = outage().at(-1)!;
    t.ok(later.state === 'disconnected' && later.nextRetryAt! >= wentDownAt + 5000, 'a later retry failed, computed 5 s after the outage began');
    t.equal(later.since, wentDownAt, 'yet since still names the start of the outage');
    server.state.mode = 'session';
  });

  await t.test('a connection that stayed up for stableAfter resets the backoff', async (t) => {
    await waitUntil(() => client.state.state === 'connected');
    const before = delays().length;
    clock.now += 60_000;
    server.state.sessions.at(-1)!.ws.close(1001, 'server restarting');
    await waitUntil(() => delays().length > before);
    t.equal(delays()[before], 10, 'back to the first step: 0.5 * base');
  });

  await t.test('503 OVERLOADED: Retry-After is a floor for the next attempt', async (t) => {
    await waitUntil(() => client.state.state === 'connected');
    server.state.mode = 'overloaded';
    const before = delays().length;
    server.state.sessions.at(-1)!.ws.close(1001, 'bye');
    await waitUntil(() => lastError().startsWith('OVERLOADED'));
    const d = delays().at(-1)!;
    t.ok(d >= 7000, `waits at least Retry-After (7 s): ${d} ms`);
    t.ok(delays().length > before);
  });

  await t.test('a revoked credential is retried at the cap, not hammered', async (t) => {
    await client.stop();
    states.length = 0;
    server.state.mode = 'revoked';
    client.start();
    await waitUntil(() => lastError().startsWith('CREDENTIAL_REVOKED'));
    t.equal(delays().at(-1), 500, 'random 0.5 of the 1 s cap');
  });
});

t.test('issue 12: no periodic heartbeat by default; queued statuses are announced once, with their count', async (t) => {
  const server = await testServer(t.testdir());
  t.teardown(server.close);
  const client = new TunnelClient({
    serverUrl: server.url, role: 'fleet', agentId: 'a-quiet', agentVersion: '9.9.9',
    credential: () => 'a-quiet.secret', ca: server.cert, agent: undefined,
    backoff: { baseMs: 20, capMs: 1000, stableAfterMs: 60_000, maxExponent: 30 },
    random: () => 0.5, now: () => 1, logger: silentLogger(),
    facts: async () => ({ hostname: 'h', os: 'linux', arch: 'amd64', agentVersion: '9.9.9' }),
  });
  t.teardown(() => client.stop());
  client.notifyOutbox(5); // not connected yet: dropped (the server drains on every reconnect)
  client.start();
  await waitUntil(() => client.state.state === 'connected' && server.state.messages.some((m) => m.kind === 'facts'));
  client.notifyOutbox(0);
  client.notifyOutbox(2);
  await waitUntil(() => server.state.messages.some((m) => m.kind === 'heartbeat'));
  const beats = server.state.messages.filter((m) => m.kind === 'heartbeat');
  t.equal(beats.length, 1, 'one heartbeat: none for an empty outbox or while down');
  t.match(beats[0], { body: { outbox: 2 } });
});
