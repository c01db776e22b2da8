// Stream lifecycle (SPEC.md §6): open with target and metadata, data both ways, half-close,
// reset with a structured error, limits, and what happens to streams when the session closes.
import t from 'tap';
import { once } from 'node:events';
import { decodeFrame } from './codec.ts';
import { TunnelError } from './errors.ts';
import { bothReady, rawSession, sessionPair } from './session-pair.ts';
import type { TunnelStream } from './tunnel-stream.ts';

async function readAll(s: TunnelStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function nextStream(s: import('./session.ts').Session): Promise<TunnelStream> {
  return new Promise((r) => s.once('stream', r));
}

function errorOf(s: TunnelStream): Promise<TunnelError> {
  return new Promise((r) => s.once('error', (e) => r(e as TunnelError)));
}

t.test('streams: the opener sets target and metadata; ids are even for the server, odd for the client', async (t) => {
  const { client, server } = sessionPair();
  const incoming = nextStream(client);
  const s = server.openStream('http:kube-apiserver', { user: 'zoë' });
  const c = await incoming;
  t.equal(c.target, 'http:kube-apiserver');
  t.same({ ...c.metadata }, { user: 'zoë' });
  t.equal(s.id % 2, 0);
  const back = nextStream(server);
  t.equal(client.openStream('tcp:x:1').id % 2, 1);
  t.equal((await back).id, 1);
});

t.test('streams: bytes flow both ways and half-close ends only one direction', async (t) => {
  const { client, server } = sessionPair();
  server.on('stream', (st) => {
    readAll(st).then((b) => st.end(Buffer.concat([Buffer.from('got:'), b])));
  });
  await bothReady(client, server);
  const s = client.openStream('echo');
  s.end(Buffer.alloc(1_000_000, 1));
  const reply = await readAll(s);
  t.equal(reply.length, 4 + 1_000_000);
  if (!s.closed) await once(s, 'close');
  t.equal(client.stats().streams, 0, 'finished streams are forgotten');
  t.equal(server.stats().streams, 0);
});

t.test('streams: writes made before the handshake completes are delivered', async (t) => {
  const { client, server } = sessionPair();
  const got = nextStream(server).then(readAll);
  const s = client.openStream('early');
  s.end('before-hello');
  t.equal((await got).toString(), 'before-hello');
});

t.test('streams: reset carries code, retryable and message to the other end', async (t) => {
  const { client, server } = sessionPair();
  let localErrors = 0;
  server.on('stream', (st) => {
    st.on('error', () => localErrors++);
    st.reset('TARGET_UNREACHABLE', 'dial tcp 10.0.0.1:6443: refused');
  });
  const s = client.openStream('tcp:10.0.0.1:6443');
  const err = await errorOf(s);
  t.equal(err.code, 'TARGET_UNREACHABLE');
  t.equal(err.retryable, true);
  t.equal(err.remote, true);
  t.match(err.message, /refused/);
  t.equal(localErrors, 0, 'reset() does not raise an error on the side that chose it');
});

t.test('streams: destroy(err) with a TunnelError resets the peer with that code and raises it locally', async (t) => {
  const { client, server } = sessionPair();
  const local = new Promise<Error>((r) => server.on('stream', (st) => {
    st.on('error', r);
    st.destroy(new TunnelError('INTERNAL_ERROR', 'handler crashed'));
  }));
  const s = client.openStream('x');
  const err = await errorOf(s);
  t.equal(err.code, 'INTERNAL_ERROR');
  t.equal((await local).message, 'handler crashed');
});

t.test('streams: destroy(err) with a plain Error resets the peer with STREAM_CANCELLED and its message', async (t) => {
  const { client, server } = sessionPair();
  server.on('stream', (st) => {
    st.on('error', () => {});
    st.destroy(new Error('boom'));
  });
  const err = await errorOf(client.openStream('x'));
  t.equal(err.code, 'STREAM_CANCELLED');
  t.equal(err.message, 'boom');
});

t.test('streams: reset() without arguments sends STREAM_CANCELLED', async (t) => {
  const { client, server } = sessionPair();
  const incoming = nextStream(server);
  const s = client.openStream('x');
  s.write('a');
  const st = await incoming;
  const err = errorOf(st);
  s.on('error', () => {});
  s.reset();
  t.equal((await err).code, 'STREAM_CANCELLED');
});

t.test('streams: destroying a stream mid-write errors the pending write, and the peer sees a reset', async (t) => {
  const { client, server, serverTransport } = sessionPair({ server: { limits: { streamWindow: 1024 } } });
  const incoming = nextStream(server);
  const s = client.openStream('x');
  s.on('error', () => {});
  const writeErr = new Promise<Error | null | undefined>((r) => s.write(Buffer.alloc(10_000), r));
  const st = await incoming;
  const remote = errorOf(st);
  s.destroy();
  t.ok(await writeErr, 'pending write callback gets an error');
  t.equal((await remote).code, 'STREAM_CANCELLED');
  t.ok(serverTransport);
});

t.test('streams: without a stream listener, incoming streams are refused with STREAM_REFUSED', async (t) => {
  const { client } = sessionPair();
  const s = client.openStream('nobody-listens');
  t.equal((await errorOf(s)).code, 'STREAM_REFUSED');
});

t.test('streams: beyond the peer max streams, new streams fail with retryable STREAM_LIMIT', async (t) => {
  const { client, server } = sessionPair({ server: { limits: { maxStreams: 2 } } });
  server.on('stream', (st) => st.on('error', () => {}));
  await bothReady(client, server);
  client.openStream('a');
  client.openStream('b');
  const third = client.openStream('c');
  const err = await errorOf(third);
  t.equal(err.code, 'STREAM_LIMIT');
  t.equal(err.retryable, true);
});

t.test('streams: a peer exceeding our max streams gets STREAM_LIMIT resets, the session survives', async (t) => {
  const { session, transport } = rawSession({ side: 'server', limits: { maxStreams: 1 } });
  const { encodeFrame } = await import('./codec.ts');
  session.on('stream', (st) => st.on('error', () => {}));
  session.handleFrame(encodeFrame({ type: 'HELLO', hello: { major: 1, minor: 0, streamWindow: 65536, maxDataPayload: 65536, maxStreams: 10, capabilities: [], peer: { role: 'x', version: '1' } } }));
  session.handleFrame(encodeFrame({ type: 'OPEN', streamId: 1, target: 't', metadata: {} }));
  session.handleFrame(encodeFrame({ type: 'OPEN', streamId: 3, target: 't', metadata: {} }));
  const last = decodeFrame(transport.sent.at(-1) as Uint8Array);
  t.same(last.type === 'RESET' ? [last.streamId, last.code, last.retryable] : last, [3, 11, true]);
  t.equal(session.state, 'open');
});

t.test('streams: OPEN with the wrong parity or a reused id is a protocol error', async (t) => {
  const { encodeFrame } = await import('./codec.ts');
  for (const ids of [[2], [1, 1], [5, 3]]) {
    const { session, transport } = rawSession({ side: 'server' });
    session.on('stream', (st) => st.on('error', () => {}));
    session.handleFrame(encodeFrame({ type: 'HELLO', hello: { major: 1, minor: 0, streamWindow: 65536, maxDataPayload: 65536, maxStreams: 10, capabilities: [], peer: { role: 'x', version: '1' } } }));
    for (const id of ids) session.handleFrame(encodeFrame({ type: 'OPEN', streamId: id, target: 't', metadata: {} }));
    t.equal(session.closeInfo?.code, 'PROTOCOL_ERROR', `ids ${ids.join(',')}`);
    t.equal(transport.closed?.code, 1002);
  }
});

t.test('streams: DATA for a stream that never existed is a protocol error; for a closed one it is ignored', async (t) => {
  const { encodeFrame } = await import('./codec.ts');
  const { session } = rawSession({ side: 'server' });
  session.on('stream', (s) => s.destroy());
  session.handleFrame(encodeFrame({ type: 'HELLO', hello: { major: 1, minor: 0, streamWindow: 65536, maxDataPayload: 65536, maxStreams: 10, capabilities: [], peer: { role: 'x', version: '1' } } }));
  session.handleFrame(encodeFrame({ type: 'OPEN', streamId: 1, target: 't', metadata: {} }));
  await new Promise((r) => setImmediate(r));
  session.handleFrame(encodeFrame({ type: 'DATA', streamId: 1, fin: false, payload: Buffer.from('late') }));
  t.equal(session.state, 'open', 'late DATA after our reset is fine');
  session.handleFrame(encodeFrame({ type: 'DATA', streamId: 9, fin: false, payload: Buffer.from('?') }));
  t.equal(session.closeInfo?.code, 'PROTOCOL_ERROR');
});

t.test('streams: closing the session errors every open stream with the session error; new streams fail', async (t) => {
  const { client, server } = sessionPair();
  server.on('stream', (st) => st.on('error', () => {}));
  await bothReady(client, server);
  const a = client.openStream('a');
  const b = client.openStream('b');
  const errs = Promise.all([errorOf(a), errorOf(b)]);
  client.close('GOING_AWAY', 'agent restarting');
  for (const e of await errs) t.equal(e.code, 'GOING_AWAY');
  const late = client.openStream('c');
  t.equal((await errorOf(late)).code, 'SESSION_CLOSED');
  const info = await new Promise<import('./session.ts').SessionCloseInfo>((r) => (server.closeInfo ? r(server.closeInfo) : server.once('close', r)));
  t.equal(info.code, 'GOING_AWAY', 'the peer learns the reason from GOAWAY');
  t.equal(info.remote, true);
  t.equal(info.closeCode, 1001);
});

t.test('streams: a GOAWAY ends the session at once, even if the peer never closes the transport', async (t) => {
  const { encodeFrame } = await import('./codec.ts');
  const { session, transport } = rawSession({ side: 'server' });
  session.on('stream', (st) => st.on('error', () => {}));
  session.handleFrame(encodeFrame({ type: 'HELLO', hello: { major: 1, minor: 0, streamWindow: 65536, maxDataPayload: 65536, maxStreams: 10, capabilities: [], peer: { role: 'x', version: '1' } } }));
  const s = session.openStream('t');
  const err = errorOf(s);
  session.handleFrame(encodeFrame({ type: 'GOAWAY', code: 16, retryable: true, message: 'server restarting' }));
  t.equal(session.state, 'closed');
  t.same(session.closeInfo, { code: 'GOING_AWAY', closeCode: 1001, message: 'server restarting', remote: true, retryable: true });
  t.equal(transport.closed?.code, 1000);
  t.equal((await err).code, 'GOING_AWAY');
});

t.test('streams: a transport that closes underneath errors the streams with a retryable error', async (t) => {
  const { client, server, clientTransport } = sessionPair();
  server.on('stream', (st) => st.on('error', () => {}));
  await bothReady(client, server);
  const a = client.openStream('a');
  const err = errorOf(a);
  clientTransport.abort();
  const e = await err;
  t.equal(e.retryable, true);
  t.equal(client.state, 'closed');
});

t.test('streams: corked writes go out as one DATA frame', async (t) => {
  const { client, server, clientTransport } = sessionPair();
  const got = nextStream(server).then(readAll);
  await bothReady(client, server);
  const s = client.openStream('x');
  await new Promise((r) => setImmediate(r));
  clientTransport.record = true;
  s.cork();
  s.write('GET / HTTP/1.1\r\n');
  s.write('Host: k\r\n\r\n');
  s.uncork();
  s.end();
  t.equal((await got).toString(), 'GET / HTTP/1.1\r\nHost: k\r\n\r\n');
  const { decodeFrame } = await import('./codec.ts');
  const data = clientTransport.sent.map((f) => decodeFrame(f)).filter((f) => f.type === 'DATA' && f.payload.length > 0);
  t.equal(data.length, 1);
});

t.test('streams: end() again on an ended stream is a no-op; with a callback, Node still reports it', async (t) => {
  const { client, server } = sessionPair();
  await bothReady(client, server);
  server.on('stream', (st: TunnelStream) => {
    st.on('error', () => {});
    st.resume();
  });
  const s = client.openStream('echo');
  s.on('error', () => {});
  s.end('x');
  await once(s, 'finish');
  t.equal(s.end(), s, 'returns the stream');
  const err = await new Promise<Error | null | undefined>((r) => s.end(r));
  t.match(err, { code: 'ERR_STREAM_ALREADY_FINISHED' }, 'an end with a callback is left to Node');
  t.notOk(s.destroyed && s.errored, 'the stream was not errored');
  client.close();
  server.close();
});
