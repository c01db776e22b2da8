// SPEC.md says what a peer does in the cases an independent implementation had to guess at
// (issue 13); this file pins each answer to the code: the bad-input table of §4.8 row by row
// against a real session, the limits table of §12 against limits.ts, the canonical JSON of §4.9
// against the vectors, who sends HELLO first (§5.1), the upper bound of maxDataPayload (§4.3),
// what CONTROL_ERRORS changes (§7) and `Expect: 100-continue` over a stream (§10). A documented
// code or limit that differs from what the code does fails here.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { CAPABILITIES } from './capabilities.ts';
import { decodeFrame, encodeFrame } from './codec.ts';
import { ERROR_CODES } from './errors.ts';
import type { Frame, Hello } from './frame.ts';
import { createStreamHttpServer, requestOverStream } from './http-over-stream.ts';
import * as L from './limits.ts';
import type { ManualClock } from './manual-clock.ts';
import { MESSAGE_KINDS } from './messages.ts';
import { bothReady, rawSession, sessionPair } from './session-pair.ts';
import type { Session } from './session.ts';
import type { TunnelStream } from './tunnel-stream.ts';

const spec = readFileSync(new URL('./SPEC.md', import.meta.url), 'utf8');

/** The rows of the markdown table that follows `heading` (a line of the table's header). */
function tableAfter(heading: string): string[][] {
  const lines = spec.split('\n');
  const at = lines.findIndex((l) => l.trim() === heading);
  if (at < 0) return [];
  const rows: string[][] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

const peerHello = (over: Partial<Hello> = {}): Hello => ({
  major: 1, minor: 0, streamWindow: 65536, maxDataPayload: 16384, maxStreams: 8, capabilities: [1, 2, 3], peer: { role: 'cluster', version: 't' }, ...over,
});
const helloBytes = (over: Partial<Hello> = {}): Uint8Array => encodeFrame({ type: 'HELLO', hello: peerHello(over) });

/** A frame built by hand: header and payload, for inputs the encoder refuses to produce. */
function rawFrame(type: number, streamId: number, payload: Uint8Array, flags = 0): Buffer {
  const b = Buffer.alloc(6 + payload.length);
  b[0] = type;
  b[1] = flags;
  b.writeUInt32BE(streamId, 2);
  Buffer.from(payload).copy(b, 6);
  return b;
}
const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
function openPayload(target: Buffer, entries: [Buffer, Buffer][]): Buffer {
  return Buffer.concat([u16(target.length), target, u16(entries.length), ...entries.flatMap(([k, v]) => [u16(k.length), k, u16(v.length), v])]);
}
function helloPayloadRaw(capCount: number, caps: number[], peer: string): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(1, 0);
  h.writeUInt32BE(65536, 4);
  h.writeUInt32BE(65536, 8);
  h.writeUInt16BE(8, 12);
  h.writeUInt16BE(capCount, 14);
  return Buffer.concat([h, ...caps.map(u16), Buffer.from(peer)]);
}

interface Outcome { code: string; close: string }

/** A server-side session whose peer (the test) has sent a valid HELLO; streams it opens are accepted and never read. */
function openSession(limits: Partial<L.SessionLimits> = {}) {
  const raw = rawSession({ limits });
  raw.session.on('stream', (s: TunnelStream) => s.on('error', () => {}));
  raw.session.handleFrame(helloBytes({ streamWindow: 1 << 20 }));
  return raw;
}

/** What the session reported: the close (code, close code) or, if it stayed open, the `error` message it sent. */
function outcome(raw: ReturnType<typeof rawSession>): Outcome {
  const { session, transport } = raw;
  if (session.closeInfo) return { code: session.closeInfo.code, close: String(transport.closed?.code ?? session.closeInfo.closeCode) };
  for (const bytes of [...transport.sent].reverse()) {
    const f = decodeFrame(bytes);
    if (f.type === 'CONTROL' && f.kind === MESSAGE_KINDS.error.wire) return { code: (f.body as { code: string }).code, close: '—' };
  }
  return { code: 'none', close: '—' };
}

const CASES: Record<string, () => Outcome> = {
  'first-frame-garbage': () => {
    const raw = rawSession();
    raw.session.handleFrame(Buffer.from([1, 0, 0]));
    return outcome(raw);
  },
  'first-frame-not-hello': () => {
    const raw = rawSession();
    raw.session.handleFrame(encodeFrame({ type: 'PING', payload: Buffer.alloc(8) }));
    return outcome(raw);
  },
  'hello-timeout': () => {
    const raw = rawSession({ limits: { helloTimeoutMs: 100 } });
    (raw.clock as ManualClock).advance(100);
    return outcome(raw);
  },
  'hello-peer-not-json': () => {
    const raw = rawSession();
    raw.session.handleFrame(rawFrame(1, 0, helloPayloadRaw(0, [], '{"role":"cluster",')));
    return outcome(raw);
  },
  'hello-peer-not-object': () => {
    const raw = rawSession();
    raw.session.handleFrame(rawFrame(1, 0, helloPayloadRaw(0, [], '{"role":7,"version":"1"}')));
    return outcome(raw);
  },
  'hello-too-many-capabilities': () => {
    const raw = rawSession();
    const caps = Array.from({ length: L.MAX_CAPABILITIES + 1 }, (_, i) => i + 1);
    raw.session.handleFrame(rawFrame(1, 0, helloPayloadRaw(caps.length, caps, '{"role":"r","version":"v"}')));
    return outcome(raw);
  },
  'hello-too-large': () => {
    const raw = rawSession();
    raw.session.handleFrame(rawFrame(1, 0, helloPayloadRaw(0, [], JSON.stringify({ role: 'r', version: 'v', pad: 'x'.repeat(L.MAX_HELLO_PAYLOAD) }))));
    return outcome(raw);
  },
  'hello-window-above-max': () => {
    const raw = rawSession();
    raw.session.handleFrame(helloBytes({ streamWindow: L.MAX_STREAM_WINDOW + 1 }));
    return outcome(raw);
  },
  'hello-window-below-min': () => {
    const raw = rawSession();
    raw.session.handleFrame(helloBytes({ streamWindow: L.MIN_STREAM_WINDOW - 1 }));
    return outcome(raw);
  },
  'hello-max-data-below-min': () => {
    const raw = rawSession();
    raw.session.handleFrame(helloBytes({ maxDataPayload: L.MIN_DATA_PAYLOAD - 1 }));
    return outcome(raw);
  },
  'hello-major-mismatch': () => {
    const raw = rawSession();
    raw.session.handleFrame(helloBytes({ major: 2 }));
    return outcome(raw);
  },
  'second-hello': () => {
    const raw = openSession();
    raw.session.handleFrame(helloBytes());
    return outcome(raw);
  },
  'open-too-many-metadata': () => {
    const raw = openSession();
    const entries = Array.from({ length: L.MAX_METADATA_ENTRIES + 1 }, (_, i): [Buffer, Buffer] => [Buffer.from(`k${i}`), Buffer.from('v')]);
    raw.session.handleFrame(rawFrame(2, 1, openPayload(Buffer.from('http:x'), entries)));
    return outcome(raw);
  },
  'open-repeated-key': () => {
    const raw = openSession();
    raw.session.handleFrame(rawFrame(2, 1, openPayload(Buffer.from('http:x'), [[Buffer.from('k'), Buffer.from('1')], [Buffer.from('k'), Buffer.from('2')]])));
    return outcome(raw);
  },
  'open-target-too-long': () => {
    const raw = openSession();
    raw.session.handleFrame(rawFrame(2, 1, openPayload(Buffer.alloc(L.MAX_TARGET_BYTES + 1, 0x61), [])));
    return outcome(raw);
  },
  'open-too-large': () => {
    const raw = openSession();
    raw.session.handleFrame(rawFrame(2, 1, openPayload(Buffer.from('http:x'), [[Buffer.from('k'), Buffer.alloc(L.MAX_OPEN_PAYLOAD, 0x61)]])));
    return outcome(raw);
  },
  'open-wrong-parity': () => {
    const raw = openSession();
    raw.session.handleFrame(encodeFrame({ type: 'OPEN', streamId: 2, target: 'http:x', metadata: {} }));
    return outcome(raw);
  },
  'data-too-large': () => {
    const raw = openSession({ maxDataPayload: L.MIN_DATA_PAYLOAD });
    raw.session.handleFrame(encodeFrame({ type: 'OPEN', streamId: 1, target: 'http:x', metadata: {} }));
    raw.session.handleFrame(encodeFrame({ type: 'DATA', streamId: 1, fin: false, payload: Buffer.alloc(L.MIN_DATA_PAYLOAD + 1) }));
    return outcome(raw);
  },
  'data-beyond-credit': () => {
    const raw = openSession({ streamWindow: L.MIN_STREAM_WINDOW, maxDataPayload: L.MIN_DATA_PAYLOAD });
    raw.session.handleFrame(encodeFrame({ type: 'OPEN', streamId: 1, target: 'http:x', metadata: {} }));
    raw.session.handleFrame(encodeFrame({ type: 'DATA', streamId: 1, fin: false, payload: Buffer.alloc(L.MIN_STREAM_WINDOW) }));
    raw.session.handleFrame(encodeFrame({ type: 'DATA', streamId: 1, fin: false, payload: Buffer.alloc(1) }));
    return outcome(raw);
  },
  'control-not-json': () => {
    const raw = openSession();
    raw.session.handleFrame(rawFrame(8, 0, Buffer.concat([u16(2), Buffer.from('{nope')])));
    return outcome(raw);
  },
  'control-too-large': () => {
    const raw = openSession();
    raw.session.handleFrame(rawFrame(8, 0, Buffer.concat([u16(2), Buffer.from(JSON.stringify({ pad: 'x'.repeat(L.MAX_CONTROL_PAYLOAD) }))])));
    return outcome(raw);
  },
  'control-not-object': () => {
    const raw = openSession();
    raw.session.handleFrame(encodeFrame({ type: 'CONTROL', kind: MESSAGE_KINDS.heartbeat.wire, required: false, body: [] }));
    return outcome(raw);
  },
  'control-unknown-required': () => {
    const raw = openSession();
    raw.session.handleFrame(encodeFrame({ type: 'CONTROL', kind: 999, required: true, body: {} }));
    return outcome(raw);
  },
};

t.test('SPEC §4.8: every documented bad-input case gets the documented error and close code', async (t) => {
  const rows = tableAfter('| case | input | error | close |');
  t.ok(rows.length >= 20, 'the table is there');
  const documented = new Map(rows.map(([c, , error, close]) => [/`([a-z-]+)`/.exec(c ?? '')?.[1] ?? '', { code: /`([A-Z_]+)`/.exec(error ?? '')?.[1] ?? '', close: close ?? '' }]));
  t.same([...documented.keys()].sort(), Object.keys(CASES).sort(), 'every case in the table has a check here, and every check is documented');
  for (const [name, run] of Object.entries(CASES)) {
    t.same(run(), documented.get(name), name);
  }
});

t.test('SPEC §12: the limits table lists every constant of limits.ts with its value', async (t) => {
  const rows = tableAfter('| constant | value |');
  const documented = Object.fromEntries(rows.map(([c, v]) => [(c ?? '').replace(/`/g, ''), Number(v)]));
  const code = Object.fromEntries(Object.entries(L).filter(([, v]) => typeof v === 'number'));
  t.same(documented, code);
});

t.test('SPEC §5.1: each side sends its HELLO first, without waiting for the peer', async (t) => {
  for (const side of ['client', 'server'] as const) {
    const { transport } = rawSession({ side });
    t.equal(transport.sent.length, 1, `${side}: one frame sent before anything was received`);
    t.equal(decodeFrame(transport.sent[0] as Uint8Array).type, 'HELLO', `${side}: it is the HELLO`);
  }
});

t.test('SPEC §4.3: a maxDataPayload above 65536 is accepted and read as 65536', async (t) => {
  const { session, transport } = rawSession();
  session.handleFrame(helloBytes({ maxDataPayload: 1 << 24, streamWindow: 1 << 20 }));
  t.equal(session.state, 'open', 'not a handshake failure');
  const s = session.openStream('http:x');
  s.end(Buffer.alloc(300_000, 7));
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  const data = transport.sent.map((b) => decodeFrame(b, { maxDataPayload: 1 << 24 })).filter((f): f is Extract<Frame, { type: 'DATA' }> => f.type === 'DATA');
  t.ok(data.length > 0, 'data was sent');
  t.equal(Math.max(...data.map((f) => f.payload.length)), L.MAX_DATA_PAYLOAD, 'no DATA payload above 65536');
  t.equal(data.reduce((n, f) => n + f.payload.length, 0), 300_000);
});

t.test('SPEC §7: the error answers are sent only when both HELLOs list CONTROL_ERRORS', async (t) => {
  const invalid = encodeFrame({ type: 'CONTROL', kind: MESSAGE_KINDS.heartbeat.wire, required: false, body: { seq: -1 } });
  const unknown = encodeFrame({ type: 'CONTROL', kind: 999, required: true, body: {} });
  const errorsSent = (s: ReturnType<typeof rawSession>) => s.transport.sent.map((b) => decodeFrame(b)).filter((f) => f.type === 'CONTROL' && f.kind === MESSAGE_KINDS.error.wire).length;
  for (const [what, opts, caps] of [
    ['both advertise it', {}, [1, 2, 3]],
    ['the peer does not', {}, [1, 2]],
    ['we masked it', { maskCapabilities: ['CONTROL_ERRORS' as const] }, [1, 2, 3]],
  ] as const) {
    const raw = rawSession(opts);
    const delivered: unknown[] = [];
    raw.session.on('message', (m) => delivered.push(m));
    raw.session.handleFrame(helloBytes({ capabilities: [...caps] }));
    raw.session.handleFrame(invalid);
    raw.session.handleFrame(unknown);
    t.equal(errorsSent(raw), what === 'both advertise it' ? 2 : 0, `${what}: ${what === 'both advertise it' ? 'two error answers' : 'no answer'}`);
    t.equal(delivered.length, 0, `${what}: nothing delivered`);
    t.equal(raw.session.state, 'open', `${what}: the session stays open`);
  }
});

t.test('SPEC §4.9: the JSON in every vector is in the canonical form; other forms decode and re-encode canonically', async (t) => {
  const dir = new URL('./vectors/v1/', import.meta.url);
  const index = JSON.parse(readFileSync(new URL('index.json', dir), 'utf8')) as { valid: { file: string }[] };
  const arrayIndexKey = (v: unknown): boolean => typeof v === 'object' && v !== null && (Object.keys(v).some((k) => /^(0|[1-9]\d*)$/.test(k)) || Object.values(v).some(arrayIndexKey));
  let checked = 0;
  for (const v of index.valid) {
    const bytes = Buffer.from(readFileSync(new URL(v.file, dir), 'utf8').trim(), 'hex');
    const f = decodeFrame(bytes);
    let json: Buffer | undefined;
    if (f.type === 'CONTROL') json = bytes.subarray(8);
    if (f.type === 'HELLO') json = bytes.subarray(6 + 16 + 2 * f.hello.capabilities.length);
    if (json === undefined) continue;
    checked++;
    const text = json.toString('utf8');
    t.equal(JSON.stringify(JSON.parse(text)), text, `${v.file}: canonical JSON`);
    t.notOk(arrayIndexKey(JSON.parse(text)), `${v.file}: no array-index member names`);
  }
  t.ok(checked >= 5, 'HELLO and CONTROL vectors were checked');
  const loose = rawFrame(1, 0, helloPayloadRaw(0, [], ' { "name" : "edge", "version":"1", "role":"cluster", "x": 1 } '));
  const f = decodeFrame(loose);
  t.same(f.type === 'HELLO' ? f.hello.peer : undefined, { role: 'cluster', version: '1', name: 'edge' }, 'a non-canonical peer object decodes');
  t.equal(encodeFrame(f).subarray(22).toString('utf8'), '{"role":"cluster","version":"1","name":"edge"}', 'and re-encodes in the canonical form');
});

async function rawExchange(session: Session, request: string): Promise<string> {
  const s = session.openStream('http:x');
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => s.on('end', r));
  s.write(request);
  await done;
  return Buffer.concat(chunks).toString('latin1');
}

t.test('SPEC §10: Expect: 100-continue with Connection: close gets 100 Continue, then the one final response', async (t) => {
  const { client, server } = sessionPair();
  const http = createStreamHttpServer({
    request(req, res) {
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => res.end(`got ${n}`));
    },
  });
  client.on('stream', (s: TunnelStream) => http.serve(s));
  await bothReady(client, server);
  const answer = await rawExchange(server, 'PUT /v1/x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello');
  t.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/, 'interim 100, then the final 200');
  t.match(answer, /got 5$/, 'the body was read');
  t.equal(answer.match(/HTTP\/1\.1 /g)?.length, 2, 'one interim and one final response');
  const other = await rawExchange(server, 'PUT /v1/x HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  t.match(other, /^HTTP\/1\.1 417 /, 'any other expectation is 417');
  const viaClient = await requestOverStream(server.openStream('http:x'), { method: 'PUT', path: '/v1/x', headers: { expect: '100-continue', 'content-length': '3' }, body: 'abc' });
  t.equal(viaClient.kind === 'response' ? viaClient.response.statusCode : 0, 200, 'the reference opener skips the interim response');
  if (viaClient.kind === 'response') viaClient.response.resume();
});

t.test('SPEC §5, §7, §9: the capability, control-message and error tables are the registries', async (t) => {
  const caps = tableAfter('| wire | name             | since | meaning |').map(([wire, name, since]) => [Number(wire), (name ?? '').replace(/`/g, ''), since]);
  t.same(caps, Object.entries(CAPABILITIES).map(([name, c]) => [c.wire, name, c.since]), 'capabilities: wire, name, since');
  const kinds = tableAfter('| wire | kind        | since | required | direction | body |').map(([wire, kind, since, required]) => [Number(wire), (kind ?? '').replace(/`/g, ''), since, required === 'yes']);
  t.same(kinds, Object.entries(MESSAGE_KINDS).map(([kind, k]) => [k.wire, kind, k.since, k.required]), 'control kinds: wire, kind, since, required');
  const errors = tableAfter('| wire | code | close | retryable |');
  const documented = new Map(errors.map(([wire, code, close, retryable]) => [(code ?? '').replace(/`/g, ''), { wire: Number(wire), close: /^\d+$/.test(close ?? '') ? Number(close) : undefined, retryable: retryable === 'yes' }]));
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    if (code === 'UNKNOWN') continue;
    const d = documented.get(code);
    t.ok(d, `${code} is in §9`);
    if (!d) continue;
    t.equal(d.wire, info.wire, `${code}: wire number`);
    t.equal(d.retryable, info.retryable, `${code}: retryable`);
    if (d.close !== undefined) t.equal(d.close, info.close, `${code}: close code`);
  }
  t.equal(documented.size, Object.keys(ERROR_CODES).length - 1, 'and §9 names no other code');
});
