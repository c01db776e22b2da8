// Flow control (SPEC.md §6.3): a slow reader stalls only its own writer, through the window,
// with memory bounded on both ends; credit returns in batches; cheating peers are cut off.
import t from 'tap';
import fc from 'fast-check';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { encodeFrame, decodeFrame } from './codec.ts';
import { ReceiveWindow, SendCredit } from './flow-control.ts';
import { DEFAULT_STREAM_WINDOW, WINDOW_UPDATE_DIVISOR } from './limits.ts';
import { bothReady, rawSession, sessionPair } from './session-pair.ts';
import type { Session } from './session.ts';
import type { TunnelStream } from './tunnel-stream.ts';

const settle = async (rounds = 20) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};
const nextStream = (s: Session) => new Promise<TunnelStream>((r) => s.once('stream', r));

/** A source that produces `total` bytes in 16 KiB chunks, honouring backpressure. */
function source(total: number): Readable {
  let left = total;
  return new Readable({
    read() {
      const n = Math.min(16384, left);
      left -= n;
      this.push(n > 0 ? Buffer.alloc(n, 0x61) : null);
    },
  });
}

t.test('flow control: window arithmetic never lets received-but-unreturned bytes exceed the window', async (t) => {
  fc.assert(fc.property(fc.integer({ min: 1024, max: 1 << 20 }), fc.array(fc.integer({ min: 0, max: 70000 }), { maxLength: 200 }), (window, sizes) => {
    const rw = new ReceiveWindow(window);
    const sc = new SendCredit(window);
    let inFlight = 0; // received, not yet consumed
    for (const n of sizes) {
      const k = Math.min(n, sc.credit);
      sc.spend(k);
      if (!rw.receive(k)) return false;
      inFlight += k;
      const inc = rw.consume(inFlight);
      inFlight = 0;
      if (inc > 0 && !sc.grant(inc)) return false;
      if (sc.credit > window || rw.available > window) return false;
    }
    return true;
  }), { numRuns: 500 });
});

t.test('flow control: receiving beyond the credit is refused by the window', async (t) => {
  const rw = new ReceiveWindow(2048);
  t.ok(rw.receive(2048));
  t.notOk(rw.receive(1));
});

t.test('flow control: a reader that stops reading stalls its writer with bounded memory on both ends', async (t) => {
  const window = 64 * 1024;
  const { client, server } = sessionPair({ server: { limits: { streamWindow: window } } });
  await bothReady(client, server);
  const incoming = nextStream(server);
  const s = client.openStream('sink');
  const total = 8 * 1024 * 1024;
  const done = pipeline(source(total), s);
  const st = await incoming;
  st.pause(); // the reader stops
  await settle();
  const recv = st.stats();
  const send = s.stats();
  const heldByReceiver = recv.queuedIn + recv.readableLength;
  t.ok(heldByReceiver <= window, `receiver holds ${heldByReceiver} ≤ window ${window}`);
  t.ok(send.pendingOut + s.writableLength <= 16384 + s.writableHighWaterMark, `sender holds ${send.pendingOut + s.writableLength} bytes`);
  t.ok(server.stats().bufferedBytes <= window && client.stats().bufferedBytes <= window);
  t.equal(send.sendCredit, 0, 'the writer has spent its credit and waits');
  // The reader resumes: everything arrives.
  let got = 0;
  st.on('data', (d: Buffer) => (got += d.length));
  st.resume();
  await done;
  await new Promise((r) => (st.readableEnded ? r(null) : st.once('end', r)));
  t.equal(got, total);
});

t.test('flow control: one stalled stream never stalls the others', async (t) => {
  const { client, server } = sessionPair({ server: { limits: { streamWindow: 16 * 1024 } } });
  const streams: TunnelStream[] = [];
  server.on('stream', (st) => {
    streams.push(st);
    st.on('error', () => {});
    if (st.target === 'echo') st.pipe(st);
  });
  await bothReady(client, server);
  const stalled = client.openStream('stalled');
  stalled.on('error', () => {});
  void pipeline(source(4 * 1024 * 1024), stalled).catch(() => {});
  await settle();
  const echo = client.openStream('echo');
  echo.on('error', () => {});
  echo.end(Buffer.alloc(2 * 1024 * 1024, 7));
  let got = 0;
  for await (const c of echo) got += (c as Buffer).length;
  t.equal(got, 2 * 1024 * 1024, 'the second stream completed while the first is stalled');
  t.equal(stalled.stats().sendCredit, 0, 'the first stream is still stalled');
  client.close();
});

t.test('flow control: credit comes back in batches of at least window/WINDOW_UPDATE_DIVISOR', async (t) => {
  const window = 256 * 1024;
  const { client, server, serverTransport } = sessionPair({ server: { limits: { streamWindow: window } } });
  serverTransport.record = true;
  server.on('stream', (st) => st.on('error', () => {}).resume());
  await bothReady(client, server);
  const s = client.openStream('x');
  const total = 4 * 1024 * 1024;
  await pipeline(source(total), s);
  await settle();
  const windows = serverTransport.sent.map((f) => decodeFrame(f)).filter((f) => f.type === 'WINDOW');
  t.ok(windows.length > 0);
  t.ok(windows.length <= total / (window / WINDOW_UPDATE_DIVISOR), `${windows.length} WINDOW frames for ${total} bytes`);
  for (const w of windows) if (w.type === 'WINDOW') t.ok(w.increment >= window / WINDOW_UPDATE_DIVISOR);
});

t.test('flow control: a peer sending beyond its credit is cut off with FLOW_CONTROL_ERROR (4003)', async (t) => {
  const { session, transport } = rawSession({ side: 'server', limits: { streamWindow: 4096, maxDataPayload: 4096 } });
  session.on('stream', (st) => st.on('error', () => {}));
  session.handleFrame(encodeFrame({ type: 'HELLO', hello: { major: 1, minor: 0, streamWindow: 65536, maxDataPayload: 65536, maxStreams: 10, capabilities: [], peer: { role: 'x', version: '1' } } }));
  session.handleFrame(encodeFrame({ type: 'OPEN', streamId: 1, target: 't', metadata: {} }));
  session.handleFrame(encodeFrame({ type: 'DATA', streamId: 1, fin: false, payload: Buffer.alloc(4096) }));
  t.equal(session.state, 'open');
  session.handleFrame(encodeFrame({ type: 'DATA', streamId: 1, fin: false, payload: Buffer.alloc(1) }));
  t.equal(session.closeInfo?.code, 'FLOW_CONTROL_ERROR');
  t.equal(transport.closed?.code, 4003);
});

t.test('flow control: a WINDOW pushing credit past 2^31-1 is a flow-control error', async (t) => {
  const { session } = rawSession({ side: 'server' });
  session.handleFrame(encodeFrame({ type: 'HELLO', hello: { major: 1, minor: 0, streamWindow: 0x7fffffff, maxDataPayload: 65536, maxStreams: 10, capabilities: [], peer: { role: 'x', version: '1' } } }));
  const s = session.openStream('t');
  s.on('error', () => {});
  session.handleFrame(encodeFrame({ type: 'WINDOW', streamId: s.id, increment: 1 }));
  t.equal(session.closeInfo?.code, 'FLOW_CONTROL_ERROR');
});

t.test('flow control: a transport that stops draining bounds what the session queues into it', async (t) => {
  const highWater = 128 * 1024;
  const { client, server, clientTransport } = sessionPair({ client: { limits: { transportHighWater: highWater } }, server: { limits: { streamWindow: 16 * 1024 * 1024 } } });
  server.on('stream', (st) => st.on('error', () => {}).resume());
  await bothReady(client, server);
  clientTransport.paused = true; // the network stops taking bytes
  const s = client.openStream('x');
  s.on('error', () => {});
  void pipeline(source(8 * 1024 * 1024), s).catch(() => {});
  await settle();
  const buffered = clientTransport.bufferedAmount();
  t.ok(buffered <= highWater + 65542, `transport holds ${buffered} ≤ high water + one frame`);
  t.ok(buffered >= highWater, 'and it did fill up to the high-water mark');
  clientTransport.resume();
  await settle(50);
  t.ok(s.stats().sendCredit < 16 * 1024 * 1024, 'sending resumed after the drain');
  client.close();
});

t.test('flow control: a flood of 1-byte frames to a stalled reader is held densely, not frame by frame', async (t) => {
  const { session } = rawSession({ side: 'server', limits: { streamWindow: 16384 } });
  let st: TunnelStream | undefined;
  session.on('stream', (s) => {
    st = s;
    s.pause();
  });
  session.handleFrame(encodeFrame({ type: 'HELLO', hello: { major: 1, minor: 0, streamWindow: 65536, maxDataPayload: 65536, maxStreams: 10, capabilities: [], peer: { role: 'x', version: '1' } } }));
  session.handleFrame(encodeFrame({ type: 'OPEN', streamId: 1, target: 't', metadata: {} }));
  // Each 1-byte payload is a view into its own 16 KiB "socket read": what a flood could pin.
  for (let i = 0; i < 16384; i++) {
    const read = Buffer.alloc(16 * 1024);
    const f = encodeFrame({ type: 'DATA', streamId: 1, fin: i === 16383, payload: Buffer.from([i & 0xff]) });
    f.copy(read);
    session.handleFrame(read.subarray(0, f.length));
  }
  t.equal(session.state, 'open');
  const s = st as TunnelStream;
  const stats = s.stats();
  t.equal(stats.queuedIn + stats.readableLength, 16384, 'all bytes held');
  t.ok(stats.queuedChunks <= 8, `held in ${stats.queuedChunks} chunks`);
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  s.resume();
  await new Promise((r) => s.once('end', r));
  const all = Buffer.concat(chunks);
  t.equal(all.length, 16384);
  t.ok(all.every((b, i) => b === (i & 0xff)), 'bytes intact and in order');
  const pinned = new Set(chunks.map((c) => c.buffer));
  const pinnedBytes = [...pinned].reduce((n, b) => n + b.byteLength, 0);
  t.ok(pinnedBytes <= 4 * 16384, `chunks pin ${pinnedBytes} bytes of buffers for 16384 bytes of data`);
});

t.test('flow control: with the default limits a stalled reader holds at most DEFAULT_STREAM_WINDOW bytes', async (t) => {
  const { client, server } = sessionPair();
  await bothReady(client, server);
  const incoming = nextStream(server);
  const s = client.openStream('sink');
  s.on('error', () => {});
  void pipeline(source(8 * DEFAULT_STREAM_WINDOW), s).catch(() => {});
  const st = await incoming;
  st.on('error', () => {});
  st.pause();
  await settle(50);
  const recv = st.stats();
  t.ok(recv.queuedIn + recv.readableLength <= DEFAULT_STREAM_WINDOW, `receiver holds ${recv.queuedIn + recv.readableLength} ≤ ${DEFAULT_STREAM_WINDOW}`);
  t.ok(server.stats().bufferedBytes <= DEFAULT_STREAM_WINDOW);
  t.equal(s.stats().sendCredit, 0, 'the writer waits for credit');
  client.close();
});

t.test('flow control: credit consumed in one turn goes back as one WINDOW per stream', async (t) => {
  const window = 64 * 1024;
  const { session, transport } = rawSession({ side: 'server', limits: { streamWindow: window, maxDataPayload: 4096 } });
  let st: TunnelStream | undefined;
  session.on('stream', (s) => { st = s; s.on('error', () => {}); s.pause(); });
  session.handleFrame(encodeFrame({ type: 'HELLO', hello: { major: 1, minor: 0, streamWindow: 65536, maxDataPayload: 65536, maxStreams: 10, capabilities: [], peer: { role: 'x', version: '1' } } }));
  session.handleFrame(encodeFrame({ type: 'OPEN', streamId: 1, target: 't', metadata: {} }));
  // A whole window of 4 KiB frames arrives while the reader is paused, then is read in one go.
  for (let i = 0; i < window / 4096; i++) session.handleFrame(encodeFrame({ type: 'DATA', streamId: 1, fin: false, payload: Buffer.alloc(4096, i) }));
  const before = transport.sent.map((f) => decodeFrame(f)).filter((f) => f.type === 'WINDOW');
  t.same(before.map((f) => f.type === 'WINDOW' ? f.increment : 0), [], 'nothing returned while paused');
  transport.sent.length = 0;
  const s = st as TunnelStream;
  let got = 0;
  s.on('data', (d: Buffer) => (got += d.length));
  s.resume();
  await settle();
  t.equal(got, window);
  const windows = transport.sent.map((f) => decodeFrame(f)).filter((f) => f.type === 'WINDOW');
  t.equal(windows.length, 1, 'one WINDOW frame');
  const w = windows[0];
  const inc = w?.type === 'WINDOW' ? w.increment : 0;
  // One batch returns at most threshold + one 4 KiB frame; more means batches were merged.
  t.ok(inc > window / WINDOW_UPDATE_DIVISOR + 4096, `carrying the credit of several batches (${inc} bytes)`);
});

t.test('flow control: a window read faster than the credit comes back doubles up to its cap', async (t) => {
  let now = 0;
  const w = 1024 * 1024;
  const growth = { max: 4 * w, left: 64 * w, fastMs: 20, now: () => now };
  const rw = new ReceiveWindow(w, growth);
  t.ok(rw.receive(w / 2));
  now = 5;
  t.equal(rw.consume(w / 2), w / 2 + w, 'half the window back plus one more window');
  t.equal(rw.window, 2 * w);
  t.ok(rw.receive(w));
  now = 10;
  t.equal(rw.consume(w), w + 2 * w, 'doubles again');
  t.equal(rw.window, 4 * w);
  t.ok(rw.receive(2 * w));
  now = 15;
  t.equal(rw.consume(2 * w), 2 * w, 'at the cap: only what was consumed');
  t.equal(growth.left, 64 * w - 3 * w, 'growth taken from the session allowance');
  rw.release();
  t.equal(growth.left, 64 * w, 'and given back when the stream ends');
});

t.test('flow control: a slow reader, a stalled one and an exhausted allowance keep the window', async (t) => {
  let now = 0;
  const w = 512 * 1024;
  const slow = new ReceiveWindow(w, { max: 16 * w, left: 64 * w, fastMs: 20, now: () => now });
  for (let i = 0; i < 10; i++) {
    now += 100;
    t.ok(slow.receive(w / 2));
    t.equal(slow.consume(w / 2), w / 2);
  }
  t.equal(slow.window, w, 'slow reader: fixed');
  const stalled = new ReceiveWindow(w, { max: 16 * w, left: 64 * w, fastMs: 20, now: () => now });
  t.ok(stalled.receive(w));
  t.notOk(stalled.receive(1), 'stalled reader: the peer is held to the initial window');
  const shared = { max: 16 * w, left: w, fastMs: 20, now: () => now };
  const a = new ReceiveWindow(w, shared);
  const b = new ReceiveWindow(w, shared);
  a.receive(w / 2);
  b.receive(w / 2);
  t.equal(a.consume(w / 2), w / 2 + w, 'first stream takes the allowance');
  t.equal(b.consume(w / 2), w / 2, 'second finds none left');
  t.equal(shared.left, 0);
});

t.test('flow control: with growth, outstanding credit never exceeds the window nor the cap', async (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 50 })), { maxLength: 200 }), (steps) => {
    let now = 0;
    const w = 64 * 1024;
    const growth = { max: 8 * w, left: 4 * w, fastMs: 20, now: () => now };
    const rw = new ReceiveWindow(w, growth);
    const sc = new SendCredit(w);
    for (const [n, dt] of steps) {
      now += dt;
      const k = Math.min(n, sc.credit);
      sc.spend(k);
      if (!rw.receive(k)) return false;
      const inc = rw.consume(k);
      if (inc > 0 && !sc.grant(inc)) return false;
      if (sc.credit > rw.window || rw.window > growth.max || rw.window > w + 4 * w || growth.left < 0) return false;
    }
    return true;
  }), { numRuns: 300 });
});

// sessionPair runs on a ManualClock that is not stepped: every credit return counts as fast.
t.test('flow control: a bulk stream over a session pair grows its window; fixed when maxStreamWindow ≤ streamWindow', async (t) => {
  for (const [limits, grows] of [[{}, true], [{ maxStreamWindow: DEFAULT_STREAM_WINDOW }, false]] as const) {
    const { client, server } = sessionPair({ server: { limits } });
    await bothReady(client, server);
    const incoming = nextStream(server);
    const s = client.openStream('sink');
    const total = 16 * 1024 * 1024;
    const done = pipeline(source(total), s);
    const r = await incoming;
    r.on('error', () => {});
    s.on('error', () => {});
    let got = 0;
    const ended = new Promise((res) => r.once('end', res));
    r.on('data', (c: Buffer) => (got += c.length));
    await done;
    await ended;
    t.equal(got, total);
    t.equal(r.recvWindow.window > DEFAULT_STREAM_WINDOW, grows, `window ${r.recvWindow.window} with ${JSON.stringify(limits)}`);
    client.close();
    server.close();
  }
});
