// Fuzzing (SPEC.md §12): thousands of random, generated and mutated frames per run. The codec
// round-trips every valid frame and throws only TunnelError on anything else; a session fed
// garbage never throws, never holds more than its declared limits, and when it closes, closes
// with a protocol-violation code.
import t from 'tap';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { decodeFrame, encodeFrame } from './codec.ts';
import { PROTOCOL_VIOLATION_CLOSE_CODES, TunnelError } from './errors.ts';
import type { Frame } from './frame.ts';
import { FRAME_HEADER_BYTES, MAX_WS_MESSAGE } from './limits.ts';
import { rawSession } from './session-pair.ts';

const u32 = fc.integer({ min: 1, max: 0xffffffff });
const text = (max: number) => fc.string({ unit: 'binary', maxLength: max });
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({
    major: fc.integer({ min: 0, max: 65535 }), minor: fc.integer({ min: 0, max: 65535 }),
    streamWindow: fc.integer({ min: 0, max: 0x7fffffff }), maxDataPayload: fc.integer({ min: 0, max: 0xffffffff }),
    maxStreams: fc.integer({ min: 0, max: 65535 }),
    capabilities: fc.uniqueArray(fc.integer({ min: 0, max: 65535 }), { maxLength: 20 }).map((a) => a.sort((x, y) => x - y)),
    peer: fc.record({ role: text(20), version: text(20) }),
  }).map((hello) => ({ type: 'HELLO' as const, hello })),
  fc.record({ streamId: u32, target: text(50).filter((s) => s.length > 0), metadata: fc.dictionary(text(10), text(20), { maxKeys: 5 }) })
    .map((f) => ({ type: 'OPEN' as const, ...f, metadata: { ...f.metadata } })),
  fc.record({ streamId: u32, fin: fc.boolean(), payload: bytes(300) }).filter((f) => f.fin || f.payload.length > 0).map((f) => ({ type: 'DATA' as const, ...f })),
  fc.record({ streamId: u32, increment: fc.integer({ min: 1, max: 0x7fffffff }) }).map((f) => ({ type: 'WINDOW' as const, ...f })),
  fc.record({ streamId: u32, code: fc.integer({ min: 0, max: 65535 }), retryable: fc.boolean(), message: text(100) }).map((f) => ({ type: 'RESET' as const, ...f })),
  fc.record({ code: fc.integer({ min: 0, max: 65535 }), retryable: fc.boolean(), message: text(100) }).map((f) => ({ type: 'GOAWAY' as const, ...f })),
  fc.uint8Array({ minLength: 8, maxLength: 8 }).map((p) => ({ type: 'PING' as const, payload: Buffer.from(p) })),
  fc.uint8Array({ minLength: 8, maxLength: 8 }).map((p) => ({ type: 'PONG' as const, payload: Buffer.from(p) })),
  fc.record({ kind: fc.integer({ min: 0, max: 65535 }), required: fc.boolean(), body: fc.jsonValue({ maxDepth: 3 }) }).map((f) => ({ type: 'CONTROL' as const, ...f })),
);

/** Normalises a frame for comparison (Buffers to hex, JSON bodies through JSON). */
const norm = (f: Frame) => JSON.parse(JSON.stringify(f, (_k, v: unknown) => ((v as { type?: string })?.type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v)));

t.test('fuzz: every generated valid frame survives encode → decode unchanged', async (t) => {
  fc.assert(fc.property(frameArb, (f) => {
    const back = decodeFrame(encodeFrame(f), { maxDataPayload: 1 << 20 });
    return JSON.stringify(norm(back)) === JSON.stringify(norm(f));
  }), { numRuns: 3000 });
  t.pass();
});

t.test('fuzz: decoding random bytes returns a frame or throws TunnelError, nothing else', async (t) => {
  let valid = 0;
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 9 }), (raw, type) => {
    const b = Buffer.from(raw);
    if (b.length > 0 && raw.length % 2 === 0) b[0] = type; // half the cases hit a real frame type
    try {
      decodeFrame(b);
      valid++;
    } catch (err) {
      if (!(err instanceof TunnelError)) throw err;
    }
  }), { numRuns: 5000 });
  t.ok(valid > 0, `some random inputs were valid frames (${valid})`);
});

const PEER_HELLO = encodeFrame({ type: 'HELLO', hello: { major: 1, minor: 0, streamWindow: 65536, maxDataPayload: 65536, maxStreams: 16, capabilities: [1, 2, 3], peer: { role: 'fuzz', version: '0' } } });
const LIMITS = { streamWindow: 16384, maxDataPayload: 4096, maxStreams: 8 };

/** Feeds frames to an open session and checks the invariants after each one. */
function feed(frames: Uint8Array[], handshake = false): void {
  const { session, transport } = rawSession({ side: 'server', limits: LIMITS });
  session.on('stream', (st) => st.on('error', () => {}));
  session.on('message', () => {});
  if (!handshake) session.handleFrame(PEER_HELLO);
  for (const f of frames) {
    session.handleFrame(f); // must not throw: an exception fails the property
    const st = session.stats();
    if (st.streams > LIMITS.maxStreams) throw new Error(`streams ${st.streams} above the limit`);
    if (st.bufferedBytes > LIMITS.maxStreams * LIMITS.streamWindow) throw new Error(`buffered ${st.bufferedBytes} above the limit`);
    for (const out of transport.sent) if (out.length > MAX_WS_MESSAGE) throw new Error('sent an oversized frame');
    if (session.state === 'closed') break;
  }
  if (session.state === 'closed') {
    const info = session.closeInfo;
    // A GOAWAY from the peer is an orderly close, not garbage; everything else is a violation.
    const allowed = info?.remote === true || PROTOCOL_VIOLATION_CLOSE_CODES.includes(transport.closed?.code ?? -1) || (handshake && transport.closed?.code === 4000);
    if (!allowed) throw new Error(`closed with ${transport.closed?.code} (${info?.code}: ${info?.message})`);
  }
}

t.test('fuzz: a session fed random byte frames never throws and closes with a protocol-violation code', async (t) => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 80 }), { minLength: 1, maxLength: 8 }), (frames) => {
    feed(frames.map((f) => Buffer.from(f)));
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 4 }), (frames) => {
    feed(frames.map((f) => Buffer.from(f)), true);
  }), { numRuns: 1000 });
  t.pass();
});

t.test('fuzz: a session fed generated well-formed frames in random order never throws and stays within limits', async (t) => {
  const small = fc.oneof(
    frameArb,
    fc.record({ streamId: fc.integer({ min: 1, max: 12 }), target: fc.constant('t') }).map((f) => ({ type: 'OPEN' as const, ...f, metadata: {} })),
    fc.record({ streamId: fc.integer({ min: 1, max: 12 }), fin: fc.boolean(), payload: bytes(5000) }).filter((f) => f.fin || f.payload.length > 0).map((f) => ({ type: 'DATA' as const, ...f })),
  );
  fc.assert(fc.property(fc.array(small, { minLength: 1, maxLength: 30 }), (frames) => {
    feed(frames.map((f) => encodeFrame(f)));
  }), { numRuns: 2000 });
  t.pass();
});

t.test('fuzz: mutated golden vectors (bit flips, truncation, extension) never throw out of the session', async (t) => {
  const dir = new URL('./vectors/v1/', import.meta.url);
  const vectors = readdirSync(dir).filter((f) => f.endsWith('.hex')).map((f) => Buffer.from(readFileSync(new URL(f, dir), 'utf8').trim(), 'hex'));
  const vector = fc.constantFrom(...vectors);
  const mutated = fc.tuple(vector, fc.integer({ min: 0, max: 3 }), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 16 })).map(([v, how, at, byte, extra]) => {
    const b = Buffer.from(v);
    const i = at % b.length;
    if (how === 0) b[i] = byte;
    else if (how === 1) return b.subarray(0, i);
    else if (how === 2) return Buffer.concat([b, extra]);
    else if (i >= FRAME_HEADER_BYTES) b[i] = (b[i] as number) ^ 0xff;
    return b;
  });
  fc.assert(fc.property(fc.array(mutated, { minLength: 1, maxLength: 6 }), (frames) => {
    feed(frames);
  }), { numRuns: 3000 });
  t.pass();
});
