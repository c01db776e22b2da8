// Pure frame codec (SPEC.md §3–§4): encodes frames to bytes and decodes bytes to frames with
// strict bounds checks. Decoding never reads past the input, never allocates more than the input
// size (payloads are views, not copies) and throws only TunnelError (FRAME_MALFORMED,
// FRAME_TOO_LARGE, UNKNOWN_FRAME_TYPE), which the session turns into a protocol-error close.
import { Buffer } from 'node:buffer';
import { TunnelError } from './errors.ts';
import { FLAGS, FRAME_TYPES, PING_PAYLOAD_BYTES, type Frame, type Hello } from './frame.ts';
import {
  FRAME_HEADER_BYTES, MAX_CAPABILITIES, MAX_CONTROL_PAYLOAD, MAX_DATA_PAYLOAD, MAX_ERROR_MESSAGE_BYTES,
  MAX_HELLO_PAYLOAD, MAX_METADATA_ENTRIES, MAX_OPEN_PAYLOAD, MAX_STREAM_WINDOW, MAX_TARGET_BYTES,
} from './limits.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const MAX_STREAM_ID = 0xffffffff;

function malformed(message: string): never {
  throw new TunnelError('FRAME_MALFORMED', message);
}

function text(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return malformed(`${what} is not valid UTF-8`);
  }
}

/** Cuts a message to MAX_ERROR_MESSAGE_BYTES without splitting a UTF-8 sequence. */
export function clampMessage(message: string): Buffer {
  const b = Buffer.from(message, 'utf8');
  if (b.length <= MAX_ERROR_MESSAGE_BYTES) return b;
  let end = MAX_ERROR_MESSAGE_BYTES;
  while (end > 0 && ((b[end] ?? 0) & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

function header(type: number, flags: number, streamId: number, payloadLength: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadLength);
  b[0] = type;
  b[1] = flags;
  b.writeUInt32BE(streamId, 2);
  return b;
}

/** Writes a DATA header into `target[0..6)`; the hot path fills the payload itself (one copy). */
export function writeDataHeader(target: Uint8Array, streamId: number, fin: boolean): void {
  target[0] = FRAME_TYPES.DATA;
  target[1] = fin ? FLAGS.FIN : 0;
  target[2] = streamId >>> 24;
  target[3] = (streamId >>> 16) & 0xff;
  target[4] = (streamId >>> 8) & 0xff;
  target[5] = streamId & 0xff;
}

function encodeHello(h: Hello): Buffer {
  const peer = Buffer.from(JSON.stringify(h.peer), 'utf8');
  const caps = [...new Set(h.capabilities)].sort((a, b) => a - b);
  const size = 16 + caps.length * 2 + peer.length;
  const b = header(FRAME_TYPES.HELLO, 0, 0, size);
  let o = FRAME_HEADER_BYTES;
  o = b.writeUInt16BE(h.major, o);
  o = b.writeUInt16BE(h.minor, o);
  o = b.writeUInt32BE(h.streamWindow, o);
  o = b.writeUInt32BE(h.maxDataPayload, o);
  o = b.writeUInt16BE(h.maxStreams, o);
  o = b.writeUInt16BE(caps.length, o);
  for (const c of caps) o = b.writeUInt16BE(c, o);
  peer.copy(b, o);
  return b;
}

function encodeOpen(streamId: number, target: string, metadata: Record<string, string>): Buffer {
  const t = Buffer.from(target, 'utf8');
  const entries = Object.entries(metadata).map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const);
  const size = 4 + t.length + entries.reduce((n, [k, v]) => n + 4 + k.length + v.length, 0);
  if (t.length > MAX_TARGET_BYTES) throw new TunnelError('FRAME_TOO_LARGE', `stream target exceeds ${MAX_TARGET_BYTES} bytes`);
  if (entries.length > MAX_METADATA_ENTRIES || size > MAX_OPEN_PAYLOAD) throw new TunnelError('FRAME_TOO_LARGE', `stream metadata exceeds ${MAX_METADATA_ENTRIES} entries or ${MAX_OPEN_PAYLOAD} bytes`);
  const b = header(FRAME_TYPES.OPEN, 0, streamId, size);
  let o = b.writeUInt16BE(t.length, FRAME_HEADER_BYTES);
  o += t.copy(b, o);
  o = b.writeUInt16BE(entries.length, o);
  for (const [k, v] of entries) {
    o = b.writeUInt16BE(k.length, o);
    o += k.copy(b, o);
    o = b.writeUInt16BE(v.length, o);
    o += v.copy(b, o);
  }
  return b;
}

function encodeError(type: number, streamId: number, code: number, retryable: boolean, message: string): Buffer {
  const m = clampMessage(message);
  const b = header(type, retryable ? FLAGS.RETRYABLE : 0, streamId, 2 + m.length);
  b.writeUInt16BE(code, FRAME_HEADER_BYTES);
  m.copy(b, FRAME_HEADER_BYTES + 2);
  return b;
}

/** Encodes one frame. Throws TunnelError(FRAME_TOO_LARGE) for oversized OPEN or CONTROL. */
export function encodeFrame(f: Frame): Buffer {
  switch (f.type) {
    case 'HELLO':
      return encodeHello(f.hello);
    case 'OPEN':
      return encodeOpen(f.streamId, f.target, f.metadata);
    case 'DATA': {
      const b = header(FRAME_TYPES.DATA, f.fin ? FLAGS.FIN : 0, f.streamId, f.payload.length);
      b.set(f.payload, FRAME_HEADER_BYTES);
      return b;
    }
    case 'WINDOW': {
      const b = header(FRAME_TYPES.WINDOW, 0, f.streamId, 4);
      b.writeUInt32BE(f.increment, FRAME_HEADER_BYTES);
      return b;
    }
    case 'RESET':
      return encodeError(FRAME_TYPES.RESET, f.streamId, f.code, f.retryable, f.message);
    case 'GOAWAY':
      return encodeError(FRAME_TYPES.GOAWAY, 0, f.code, f.retryable, f.message);
    case 'PING':
    case 'PONG': {
      const b = header(FRAME_TYPES[f.type], 0, 0, PING_PAYLOAD_BYTES);
      b.fill(0, FRAME_HEADER_BYTES);
      b.set(f.payload.subarray(0, PING_PAYLOAD_BYTES), FRAME_HEADER_BYTES);
      return b;
    }
    case 'CONTROL': {
      const json = Buffer.from(JSON.stringify(f.body) ?? 'null', 'utf8');
      if (2 + json.length > MAX_CONTROL_PAYLOAD) throw new TunnelError('FRAME_TOO_LARGE', `control message exceeds ${MAX_CONTROL_PAYLOAD} bytes`);
      const b = header(FRAME_TYPES.CONTROL, f.required ? FLAGS.REQUIRED : 0, 0, 2 + json.length);
      b.writeUInt16BE(f.kind, FRAME_HEADER_BYTES);
      json.copy(b, FRAME_HEADER_BYTES + 2);
      return b;
    }
    default: {
      const unreachable: never = f;
      throw new Error(`unhandled frame ${String(unreachable)}`);
    }
  }
}

/** Limits a decoder enforces; `maxDataPayload` is what we announced in our HELLO. */
export interface DecodeLimits {
  maxDataPayload: number;
}

const DEFAULT_DECODE: DecodeLimits = { maxDataPayload: MAX_DATA_PAYLOAD };

/** Reads a big-endian u16 / u32 at `o`; callers have checked the bounds. */
function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}
function u32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) >>> 0) + (((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number));
}

/** Stream id of a frame (bytes 2..6); the input must hold a full header. */
export function readStreamId(b: Uint8Array): number {
  return u32(b, 2);
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  const s = text(bytes, what);
  try {
    return JSON.parse(s);
  } catch {
    return malformed(`${what} is not valid JSON`);
  }
}

function decodeHello(p: Uint8Array): Hello {
  if (p.length > MAX_HELLO_PAYLOAD) throw new TunnelError('FRAME_TOO_LARGE', `HELLO exceeds ${MAX_HELLO_PAYLOAD} bytes`);
  if (p.length < 16) malformed('HELLO payload shorter than 16 bytes');
  const count = u16(p, 14);
  if (count > MAX_CAPABILITIES) malformed(`HELLO lists more than ${MAX_CAPABILITIES} capabilities`);
  const peerAt = 16 + count * 2;
  if (p.length < peerAt) malformed('HELLO capability list runs past the payload');
  const capabilities: number[] = [];
  for (let i = 0; i < count; i++) capabilities.push(u16(p, 16 + i * 2));
  const streamWindow = u32(p, 4);
  if (streamWindow > MAX_STREAM_WINDOW) malformed('HELLO stream window above 2^31-1');
  const peer = parseJson(p.subarray(peerAt), 'HELLO peer info');
  if (typeof peer !== 'object' || peer === null || Array.isArray(peer)) malformed('HELLO peer info is not an object');
  const { role, version, name } = peer as Record<string, unknown>;
  if (typeof role !== 'string' || role.length > 64 || typeof version !== 'string' || version.length > 64) malformed('HELLO peer info needs string role and version (≤ 64 chars)');
  if (name !== undefined && (typeof name !== 'string' || name.length > 256)) malformed('HELLO peer name must be a string (≤ 256 chars)');
  return {
    major: u16(p, 0), minor: u16(p, 2), streamWindow, maxDataPayload: u32(p, 8), maxStreams: u16(p, 12),
    capabilities, peer: name === undefined ? { role, version } : { role, version, name },
  };
}

function decodeOpen(streamId: number, p: Uint8Array): Frame {
  if (p.length > MAX_OPEN_PAYLOAD) throw new TunnelError('FRAME_TOO_LARGE', `OPEN exceeds ${MAX_OPEN_PAYLOAD} bytes`);
  let o = 0;
  const need = (n: number) => {
    if (o + n > p.length) malformed('OPEN payload truncated');
  };
  need(2);
  const tl = u16(p, o);
  o += 2;
  if (tl === 0 || tl > MAX_TARGET_BYTES) malformed(`OPEN target must be 1..${MAX_TARGET_BYTES} bytes`);
  need(tl);
  const target = text(p.subarray(o, o + tl), 'OPEN target');
  o += tl;
  need(2);
  const count = u16(p, o);
  o += 2;
  if (count > MAX_METADATA_ENTRIES) malformed(`OPEN has more than ${MAX_METADATA_ENTRIES} metadata entries`);
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i < count; i++) {
    need(2);
    const kl = u16(p, o);
    o += 2;
    need(kl);
    const k = text(p.subarray(o, o + kl), 'OPEN metadata key');
    o += kl;
    need(2);
    const vl = u16(p, o);
    o += 2;
    need(vl);
    const v = text(p.subarray(o, o + vl), 'OPEN metadata value');
    o += vl;
    if (k in metadata) malformed(`OPEN metadata key repeated: ${k.slice(0, 64)}`);
    metadata[k] = v;
  }
  if (o !== p.length) malformed('OPEN payload has trailing bytes');
  return { type: 'OPEN', streamId, target, metadata: { ...metadata } };
}

/**
 * Decodes one frame (one WebSocket message). The result's byte payloads are views into `b`.
 * Throws TunnelError on anything that is not a valid v1 frame.
 */
export function decodeFrame(b: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE): Frame {
  if (b.length < FRAME_HEADER_BYTES) malformed(`frame shorter than the ${FRAME_HEADER_BYTES}-byte header`);
  const type = b[0] as number;
  const flags = b[1] as number;
  const streamId = u32(b, 2);
  const p = b.subarray(FRAME_HEADER_BYTES);
  const session = (name: string) => {
    if (streamId !== 0) malformed(`${name} must be sent on stream 0`);
  };
  const stream = (name: string) => {
    if (streamId === 0 || streamId > MAX_STREAM_ID) malformed(`${name} needs a non-zero stream id`);
  };
  switch (type) {
    case FRAME_TYPES.HELLO:
      session('HELLO');
      return { type: 'HELLO', hello: decodeHello(p) };
    case FRAME_TYPES.OPEN:
      stream('OPEN');
      return decodeOpen(streamId, p);
    case FRAME_TYPES.DATA: {
      stream('DATA');
      if (p.length > limits.maxDataPayload) throw new TunnelError('FRAME_TOO_LARGE', `DATA payload of ${p.length} bytes exceeds the announced ${limits.maxDataPayload}`);
      const fin = (flags & FLAGS.FIN) !== 0;
      if (p.length === 0 && !fin) malformed('empty DATA frame without FIN');
      return { type: 'DATA', streamId, fin, payload: p };
    }
    case FRAME_TYPES.WINDOW: {
      stream('WINDOW');
      if (p.length !== 4) malformed('WINDOW payload must be 4 bytes');
      const increment = u32(p, 0);
      if (increment === 0 || increment > MAX_STREAM_WINDOW) malformed('WINDOW increment must be 1..2^31-1');
      return { type: 'WINDOW', streamId, increment };
    }
    case FRAME_TYPES.RESET:
    case FRAME_TYPES.GOAWAY: {
      const isReset = type === FRAME_TYPES.RESET;
      if (isReset) stream('RESET');
      else session('GOAWAY');
      if (p.length < 2) malformed('error frame payload shorter than 2 bytes');
      if (p.length - 2 > MAX_ERROR_MESSAGE_BYTES) throw new TunnelError('FRAME_TOO_LARGE', `error message exceeds ${MAX_ERROR_MESSAGE_BYTES} bytes`);
      const code = u16(p, 0);
      const retryable = (flags & FLAGS.RETRYABLE) !== 0;
      const message = text(p.subarray(2), 'error message');
      return isReset ? { type: 'RESET', streamId, code, retryable, message } : { type: 'GOAWAY', code, retryable, message };
    }
    case FRAME_TYPES.PING:
    case FRAME_TYPES.PONG: {
      const isPing = type === FRAME_TYPES.PING;
      session(isPing ? 'PING' : 'PONG');
      if (p.length !== PING_PAYLOAD_BYTES) malformed(`PING/PONG payload must be ${PING_PAYLOAD_BYTES} bytes`);
      return isPing ? { type: 'PING', payload: p } : { type: 'PONG', payload: p };
    }
    case FRAME_TYPES.CONTROL: {
      session('CONTROL');
      if (p.length > MAX_CONTROL_PAYLOAD) throw new TunnelError('FRAME_TOO_LARGE', `CONTROL payload exceeds ${MAX_CONTROL_PAYLOAD} bytes`);
      if (p.length < 3) malformed('CONTROL payload needs a kind and a JSON body');
      return { type: 'CONTROL', kind: u16(p, 0), required: (flags & FLAGS.REQUIRED) !== 0, body: parseJson(p.subarray(2), 'CONTROL body') };
    }
    default:
      throw new TunnelError('UNKNOWN_FRAME_TYPE', `unknown frame type 0x${type.toString(16).padStart(2, '0')}`);
  }
}
