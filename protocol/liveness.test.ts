// Ping/pong and dead-peer detection (SPEC.md §8), on a manual clock: a peer that stops answering
// is detected within interval + timeout on both ends, and every open stream errors (no hang).
import t from 'tap';
import { decodeFrame } from './codec.ts';
import { ManualClock } from './manual-clock.ts';
import { bothReady, sessionPair } from './session-pair.ts';
import type { TunnelError } from './errors.ts';

const limits = { pingIntervalMs: 1000, pingTimeoutMs: 500 };
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

t.test('liveness: a live peer answers every PING and the session stays open', async (t) => {
  const clock = new ManualClock();
  const { client, server, clientTransport } = sessionPair({ clock, client: { limits }, server: { limits } });
  clientTransport.record = true;
  await bothReady(client, server);
  for (let i = 0; i < 10; i++) {
    clock.advance(1000);
    await flush();
  }
  const pings = clientTransport.sent.map((f) => decodeFrame(f)).filter((f) => f.type === 'PING');
  t.equal(pings.length, 10, 'one PING per interval');
  t.equal(client.state, 'open');
  t.equal(client.stats().rttMs, 0, 'RTT measured on the injected clock');
});

t.test('liveness: ping() resolves with the round trip', async (t) => {
  const clock = new ManualClock();
  const { client, server } = sessionPair({ clock });
  await bothReady(client, server);
  t.equal(await client.ping(), 0);
});

t.test('liveness: a dead peer is detected on both ends and every stream errors with PEER_TIMEOUT', async (t) => {
  const clock = new ManualClock();
  const { client, server, clientTransport, serverTransport } = sessionPair({ clock, client: { limits }, server: { limits } });
  const serverStreams: Promise<TunnelError>[] = [];
  server.on('stream', (st) => serverStreams.push(new Promise((r) => st.once('error', (e) => r(e as TunnelError)))));
  await bothReady(client, server);
  const streams = [client.openStream('a'), client.openStream('b')];
  const errors = streams.map((s) => new Promise<TunnelError>((r) => s.once('error', (e) => r(e as TunnelError))));
  await flush();
  // The network dies silently both ways: nothing is delivered, nothing closes.
  clientTransport.blackhole = true;
  serverTransport.blackhole = true;
  clock.advance(1000);
  t.equal(client.state, 'open', 'a PING is out, not yet overdue');
  clock.advance(499);
  t.equal(client.state, 'open');
  clock.advance(1);
  t.equal(client.state, 'closed');
  t.equal(client.closeInfo?.code, 'PEER_TIMEOUT');
  t.equal(client.closeInfo?.closeCode, 4002);
  t.equal(client.closeInfo?.retryable, true);
  t.equal(server.closeInfo?.code, 'PEER_TIMEOUT', 'the server detects it too');
  for (const e of await Promise.all(errors)) t.equal(e.code, 'PEER_TIMEOUT');
  for (const e of await Promise.all(serverStreams)) t.equal(e.code, 'PEER_TIMEOUT');
  t.equal(clock.pending(), 0, 'no timers left behind');
});

t.test('liveness: ping() rejects when the session closes before the PONG', async (t) => {
  const clock = new ManualClock();
  const { client, server, serverTransport } = sessionPair({ clock });
  await bothReady(client, server);
  serverTransport.blackhole = true;
  const p = client.ping();
  client.close('GOING_AWAY', 'bye');
  await t.rejects(p, { code: 'GOING_AWAY' });
  await t.rejects(client.ping(), { code: 'SESSION_CLOSED' });
});

t.test('liveness: after close no timers remain and no PING is sent', async (t) => {
  const clock = new ManualClock();
  const { client, server, clientTransport } = sessionPair({ clock, client: { limits }, server: { limits } });
  await bothReady(client, server);
  client.close();
  await flush();
  clientTransport.record = true;
  clock.advance(10_000);
  t.equal(clientTransport.sent.length, 0);
  t.equal(clock.pending(), 0);
});

t.test('liveness: a peer that sends PINGs but never reads is cut off with PEER_NOT_READING (4003)', async (t) => {
  const { rawSession } = await import('./session-pair.ts');
  const { encodeFrame } = await import('./codec.ts');
  const { session, transport } = rawSession({ side: 'server' });
  session.handleFrame(encodeFrame({ type: 'HELLO', hello: { major: 1, minor: 0, streamWindow: 65536, maxDataPayload: 65536, maxStreams: 10, capabilities: [], peer: { role: 'x', version: '1' } } }));
  const ping = encodeFrame({ type: 'PING', payload: Buffer.alloc(8) });
  session.handleFrame(ping);
  t.equal(session.state, 'open', 'PINGs are answered while the peer reads');
  transport.buffered = 17 * 1024 * 1024; // nothing the session sent has left
  session.handleFrame(ping);
  t.equal(session.closeInfo?.code, 'PEER_NOT_READING');
  t.equal(transport.closed?.code, 4003);
});

t.test('liveness: a peer that talks anyway is not pinged; the quiet side still is', async (t) => {
  const clock = new ManualClock();
  const { client, server, clientTransport, serverTransport } = sessionPair({ clock, client: { limits }, server: { limits } });
  clientTransport.record = true;
  serverTransport.record = true;
  await bothReady(client, server);
  for (let i = 0; i < 20; i++) {
    // The client heartbeats twice per interval, like an agent; the server only answers.
    client.sendMessage('heartbeat', { seq: i, sentAt: clock.now(), uptimeSeconds: i, outbox: 0 });
    clock.advance(500);
    await flush();
  }
  const pings = (sent: Uint8Array[]) => sent.map((f) => decodeFrame(f)).filter((f) => f.type === 'PING').length;
  t.equal(pings(serverTransport.sent), 0, 'the server hears the heartbeats: no PING from it');
  t.ok(pings(clientTransport.sent) >= 9, 'the client hears nothing but PONGs: it pings every interval');
  t.equal(client.state, 'open');
  t.equal(server.state, 'open');
});
