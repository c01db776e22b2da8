// Codec edges (SPEC.md §3–§4) that the golden vectors do not pin: limits on the way out and in,
// UTF-8 safety when cutting messages, views instead of copies, reserved flags ignored.
import t from 'tap';
import { clampMessage, decodeFrame, encodeFrame } from './codec.ts';
import { TunnelError } from './errors.ts';
import { MAX_CONTROL_PAYLOAD, MAX_ERROR_MESSAGE_BYTES, MAX_TARGET_BYTES } from './limits.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof TunnelError ? err.code : `not a TunnelError: ${String(err)}`;
  }
  return undefined;
}

t.test('codec: DATA above the announced max payload is FRAME_TOO_LARGE; at the max it decodes', async (t) => {
  const frame = encodeFrame({ type: 'DATA', streamId: 1, fin: false, payload: Buffer.alloc(2048) });
  t.equal(codeOf(() => decodeFrame(frame, { maxDataPayload: 2047 })), 'FRAME_TOO_LARGE');
  t.equal(codeOf(() => decodeFrame(frame, { maxDataPayload: 2048 })), undefined);
});

t.test('codec: DATA payloads are views into the received message, not copies', async (t) => {
  const frame = encodeFrame({ type: 'DATA', streamId: 9, fin: false, payload: Buffer.from('abc') });
  const f = decodeFrame(frame);
  if (f.type !== 'DATA') return t.fail('expected DATA');
  t.equal(f.payload.buffer, frame.buffer);
  t.equal(f.payload.byteOffset, frame.byteOffset + 6);
});

t.test('codec: oversized OPEN target, metadata or CONTROL body are refused when encoding', async (t) => {
  t.equal(codeOf(() => encodeFrame({ type: 'OPEN', streamId: 1, target: 'x'.repeat(MAX_TARGET_BYTES + 1), metadata: {} })), 'FRAME_TOO_LARGE');
  const meta = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
  t.equal(codeOf(() => encodeFrame({ type: 'OPEN', streamId: 1, target: 't', metadata: meta })), 'FRAME_TOO_LARGE');
  t.equal(codeOf(() => encodeFrame({ type: 'CONTROL', kind: 1, required: false, body: 'x'.repeat(MAX_CONTROL_PAYLOAD) })), 'FRAME_TOO_LARGE');
});

t.test('codec: long error messages are cut at a UTF-8 boundary and still decode', async (t) => {
  const message = 'é'.repeat(MAX_ERROR_MESSAGE_BYTES); // 2 bytes each
  const cut = clampMessage(message);
  t.ok(cut.length <= MAX_ERROR_MESSAGE_BYTES);
  const f = decodeFrame(encodeFrame({ type: 'RESET', streamId: 1, code: 13, retryable: false, message }));
  t.equal(f.type === 'RESET' ? f.message : '', 'é'.repeat(MAX_ERROR_MESSAGE_BYTES / 2));
});

t.test('codec: reserved flag bits are ignored on receipt', async (t) => {
  const frame = encodeFrame({ type: 'WINDOW', streamId: 2, increment: 10 });
  frame[1] = 0xfe;
  t.same(decodeFrame(frame), { type: 'WINDOW', streamId: 2, increment: 10 });
  const data = encodeFrame({ type: 'DATA', streamId: 2, fin: false, payload: Buffer.from('a') });
  data[1] = 0xfe; // every bit but FIN
  const d = decodeFrame(data);
  t.equal(d.type === 'DATA' && d.fin, false);
});

t.test('codec: OPEN metadata keys may not repeat, and __proto__ is just a key', async (t) => {
  const f = decodeFrame(encodeFrame({ type: 'OPEN', streamId: 2, target: 't', metadata: JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string> }));
  t.same(f.type === 'OPEN' ? Object.keys(f.metadata) : [], ['__proto__', 'a']);
  t.equal(Object.getPrototypeOf(f.type === 'OPEN' ? f.metadata : null), Object.prototype, 'no prototype pollution');
  // Hand-built OPEN with the key "a" twice.
  const dup = Buffer.from('020000000002' + '000174' + '0002' + '000161000162' + '000161000163', 'hex');
  t.equal(codeOf(() => decodeFrame(dup)), 'FRAME_MALFORMED');
});

t.test('codec: HELLO peer info must carry string role and version', async (t) => {
  const good = encodeFrame({ type: 'HELLO', hello: { major: 1, minor: 0, streamWindow: 65536, maxDataPayload: 65536, maxStreams: 1, capabilities: [], peer: { role: 'r', version: 'v' } } });
  const peerAt = 6 + 16;
  const bad = Buffer.concat([good.subarray(0, peerAt), Buffer.from('{"role":1,"version":"v"}')]);
  t.equal(codeOf(() => decodeFrame(bad)), 'FRAME_MALFORMED');
  const notObject = Buffer.concat([good.subarray(0, peerAt), Buffer.from('[1]')]);
  t.equal(codeOf(() => decodeFrame(notObject)), 'FRAME_MALFORMED');
});
