// The DATA frame pool (frame-pool.ts): reuse only what the transport handed back, keep at most
// FRAME_POOL_SIZE, and never hand the same buffer out twice while a transport holds it.
import t from 'tap';
import { FramePool } from './frame-pool.ts';
import { FRAME_POOL_SIZE, POOLED_FRAME_MIN_BYTES } from './limits.ts';
import { bothReady, sessionPair } from './session-pair.ts';
import type { FrameTransport } from './transport.ts';

t.test('frame pool: a released buffer is reused; one still held is not', async (t) => {
  const pool = new FramePool(1030);
  const a = pool.acquire();
  const b = pool.acquire();
  t.not(a, b);
  pool.release(a);
  t.equal(pool.acquire(), a);
  t.not(pool.acquire(), b, 'b was never released');
});

t.test('frame pool: keeps at most FRAME_POOL_SIZE buffers and ignores foreign sizes', async (t) => {
  const pool = new FramePool(1030);
  const bufs = Array.from({ length: FRAME_POOL_SIZE + 5 }, () => pool.acquire());
  for (const b of bufs) pool.release(b);
  t.equal(pool.available, FRAME_POOL_SIZE);
  pool.release(Buffer.alloc(10));
  t.equal(pool.available, FRAME_POOL_SIZE);
});

t.test('frame pool: a session reuses full frames only after the transport releases them', async (t) => {
  const { client, server, clientTransport } = sessionPair({ server: { limits: { streamWindow: 1 << 20 } }, client: { limits: { maxDataPayload: 1024 } } });
  // Wrap the client's transport: remember every frame and its release, and release them late.
  const held: Array<{ frame: Uint8Array; copy: string; release: () => void }> = [];
  const inner: FrameTransport = clientTransport;
  const send = inner.send.bind(inner);
  clientTransport.send = (frame: Uint8Array, release?: () => void) => {
    // The memory transport shares frames with the peer, so copy before handing on.
    const copy = Buffer.from(frame);
    send(copy);
    if (release) held.push({ frame, copy: copy.toString('hex'), release });
  };
  server.on('stream', (st) => st.on('error', () => {}).resume());
  await bothReady(client, server);
  const s = client.openStream('x');
  s.on('error', () => {});
  s.write(Buffer.alloc(64 * 1024, 1));
  s.write(Buffer.alloc(64 * 1024, 2));
  await new Promise((r) => setImmediate(r));
  t.ok(held.length > 0, 'full-size DATA frames carry a release');
  const distinct = new Set(held.map((h) => h.frame));
  t.equal(distinct.size, held.length, 'no buffer is reused while the transport holds it');
  t.ok(held.every((h) => Buffer.from(h.frame).toString('hex') === h.copy), 'held frames were not overwritten');
  const released = new Set(held.map((h) => h.frame));
  for (const h of held) h.release();
  held.length = 0;
  s.write(Buffer.alloc(8 * 1024, 3));
  await new Promise((r) => setImmediate(r));
  t.ok(held.some((h) => released.has(h.frame)), 'a released buffer is used again');
  client.close();
});

t.test('frame pool: frames smaller than full size but at least POOLED_FRAME_MIN_BYTES are views into pooled buffers', async (t) => {
  const { client, server, clientTransport } = sessionPair({ server: { limits: { streamWindow: 1 << 20 } } });
  const held: Array<{ frame: Uint8Array; release: () => void }> = [];
  const send = clientTransport.send.bind(clientTransport);
  clientTransport.send = (frame: Uint8Array, release?: () => void) => {
    send(Buffer.from(frame));
    if (release) held.push({ frame, release });
  };
  server.on('stream', (st) => st.on('error', () => {}).resume());
  await bothReady(client, server);
  const s = client.openStream('x');
  s.on('error', () => {});
  s.write(Buffer.alloc(POOLED_FRAME_MIN_BYTES, 1));
  s.write(Buffer.alloc(100, 2));
  await new Promise((r) => setImmediate(r));
  t.equal(held.length, 1, 'only the large frame carries a release');
  const first = held[0] as { frame: Uint8Array; release: () => void };
  t.equal(first.frame.length, POOLED_FRAME_MIN_BYTES + 6);
  t.ok(first.frame.buffer.byteLength >= 64 * 1024 + 6, 'backed by a full-size pooled buffer');
  first.release();
  held.length = 0;
  s.write(Buffer.alloc(20 * 1024, 3));
  await new Promise((r) => setImmediate(r));
  t.equal(held[0]?.frame.buffer, first.frame.buffer, 'the released buffer is used again');
  client.close();
});
