// The protocol's error registry: every error code, its wire number (RESET / GOAWAY / `error`
// messages carry the number), whether it is retryable by default, and the WebSocket close code a
// session closes with when the error ends it. Append-only: numbers are never reused or changed.
// Documented in docs/errors-protocol.md (a test keeps both in sync).
import { Buffer } from 'node:buffer';

export interface ErrorCodeInfo {
  /** Wire number, u16. */
  readonly wire: number;
  /** WebSocket close code used when this error closes the whole session. */
  readonly close: number;
  /** Whether retrying the same operation later may succeed. */
  readonly retryable: boolean;
  readonly description: string;
}

/** WebSocket close codes used by the protocol (RFC 6455 §7.4; 4000–4999 are ours). */
export const CLOSE_CODES = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  UNSUPPORTED_VERSION: 4000,
  HANDSHAKE_FAILED: 4001,
  PEER_TIMEOUT: 4002,
  FLOW_CONTROL: 4003,
  /** The peer sent frames that need an answer or work (OPEN, PING, CONTROL) faster than allowed (since 1.0, issue 14). */
  RATE_LIMITED: 4004,
} as const);

/**
 * Close codes 4500–4599 belong to applications built on the protocol (the server's own reasons for
 * ending a session). The protocol itself never sends them and maps none of them to an error code, so
 * a peer reads them by number alone. Append only: a number, once given, keeps its meaning.
 */
export const APPLICATION_CLOSE_RANGE = Object.freeze({ min: 4500, max: 4599 } as const);
export const APPLICATION_CLOSE_CODES = Object.freeze({
  /** A newer connection of the same agent and role took over (since 1.0). */
  SESSION_SUPERSEDED: 4500,
  /** The agent's credential was revoked or the agent unregistered; reconnects are refused (since 1.0). */
  CREDENTIAL_REVOKED: 4501,
  /** The agent's cluster was deleted on the server: clean up (GET /v1/agent/cleanup), do not retry (since 1.0). */
  CLUSTER_DELETED: 4502,
} as const);

export const ERROR_CODES = Object.freeze({
  PROTOCOL_ERROR: { wire: 1, close: CLOSE_CODES.PROTOCOL_ERROR, retryable: false, description: 'The peer broke the protocol (frame in the wrong state, bad stream id).' },
  FRAME_MALFORMED: { wire: 2, close: CLOSE_CODES.PROTOCOL_ERROR, retryable: false, description: 'A frame could not be decoded (short header, bad lengths, invalid UTF-8).' },
  FRAME_TOO_LARGE: { wire: 3, close: CLOSE_CODES.MESSAGE_TOO_BIG, retryable: false, description: 'A frame exceeded a declared limit (max DATA, CONTROL, OPEN or HELLO payload).' },
  UNKNOWN_FRAME_TYPE: { wire: 4, close: CLOSE_CODES.PROTOCOL_ERROR, retryable: false, description: 'A frame type this version does not define.' },
  UNSUPPORTED_VERSION: { wire: 5, close: CLOSE_CODES.UNSUPPORTED_VERSION, retryable: false, description: 'No protocol major version in common; the message lists the supported ones.' },
  HANDSHAKE_FAILED: { wire: 6, close: CLOSE_CODES.HANDSHAKE_FAILED, retryable: true, description: 'HELLO missing, late (HELLO_TIMEOUT_MS) or invalid.' },
  PEER_TIMEOUT: { wire: 7, close: CLOSE_CODES.PEER_TIMEOUT, retryable: true, description: 'The peer did not answer a PING within PING_TIMEOUT_MS: it is presumed dead.' },
  FLOW_CONTROL_ERROR: { wire: 8, close: CLOSE_CODES.FLOW_CONTROL, retryable: false, description: 'The peer sent more DATA than its credit, or overflowed a window.' },
  UNKNOWN_REQUIRED_MESSAGE: { wire: 9, close: CLOSE_CODES.PROTOCOL_ERROR, retryable: false, description: 'A control message marked required has a kind this peer does not know; upgrade the peer.' },
  MESSAGE_INVALID: { wire: 10, close: CLOSE_CODES.PROTOCOL_ERROR, retryable: false, description: 'A control message failed its schema.' },
  STREAM_LIMIT: { wire: 11, close: CLOSE_CODES.PROTOCOL_ERROR, retryable: true, description: 'Too many concurrent streams; retry when one has finished.' },
  STREAM_REFUSED: { wire: 12, close: CLOSE_CODES.PROTOCOL_ERROR, retryable: false, description: 'The receiver does not serve this stream target.' },
  STREAM_CANCELLED: { wire: 13, close: CLOSE_CODES.PROTOCOL_ERROR, retryable: false, description: 'One side abandoned the stream (destroyed it without a specific error).' },
  TARGET_UNREACHABLE: { wire: 14, close: CLOSE_CODES.PROTOCOL_ERROR, retryable: true, description: 'The receiver could not reach what the stream target names.' },
  SESSION_CLOSED: { wire: 15, close: CLOSE_CODES.NORMAL, retryable: true, description: 'The session closed while the stream or message was in flight.' },
  GOING_AWAY: { wire: 16, close: CLOSE_CODES.GOING_AWAY, retryable: true, description: 'The peer is shutting down or restarting; reconnect.' },
  INTERNAL_ERROR: { wire: 17, close: CLOSE_CODES.INTERNAL_ERROR, retryable: true, description: 'A bug or unexpected failure inside the peer.' },
  TRANSPORT_CLOSED: { wire: 18, close: CLOSE_CODES.GOING_AWAY, retryable: true, description: 'The WebSocket closed or failed underneath the session.' },
  HTTP_MALFORMED: { wire: 19, close: CLOSE_CODES.PROTOCOL_ERROR, retryable: false, description: 'An HTTP exchange over a stream could not be parsed, or its head exceeded MAX_HTTP_HEAD_BYTES.' },
  NORMAL: { wire: 20, close: CLOSE_CODES.NORMAL, retryable: false, description: 'Orderly close, no error.' },
  PEER_NOT_READING: { wire: 21, close: CLOSE_CODES.FLOW_CONTROL, retryable: true, description: 'The peer stopped reading: frames owed to it passed TRANSPORT_HARD_LIMIT unsent.' },
  RATE_LIMITED: { wire: 22, close: CLOSE_CODES.RATE_LIMITED, retryable: true, description: 'The peer sent frames that need an answer or work (OPEN, PING, CONTROL) faster than the receiver allows; the session is closed.' },
  UNKNOWN: { wire: 0, close: CLOSE_CODES.PROTOCOL_ERROR, retryable: false, description: 'A wire error number this build does not know (the number is kept in `wireCode`).' },
} as const satisfies Record<string, ErrorCodeInfo>);

export type ErrorCode = keyof typeof ERROR_CODES;

const byWire = new Map<number, ErrorCode>();
for (const [code, info] of Object.entries(ERROR_CODES)) byWire.set(info.wire, code as ErrorCode);

/** The code for a wire number; `UNKNOWN` for numbers from a newer peer. */
export function errorCodeFromWire(wire: number): ErrorCode {
  return byWire.get(wire) ?? 'UNKNOWN';
}

/** Codes whose close code signals a peer's protocol violation (what fuzzing expects on garbage). */
export const PROTOCOL_VIOLATION_CLOSE_CODES: readonly number[] = Object.freeze([
  CLOSE_CODES.PROTOCOL_ERROR, CLOSE_CODES.MESSAGE_TOO_BIG, CLOSE_CODES.HANDSHAKE_FAILED, CLOSE_CODES.FLOW_CONTROL,
]);

/** The one place codes map to WebSocket close codes. */
export function closeCodeFor(code: ErrorCode): number {
  return ERROR_CODES[code].close;
}

/** A structured protocol error, local or received from the peer (`remote`). */
export class TunnelError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** True when the peer sent this error (RESET, GOAWAY, `error` message). */
  readonly remote: boolean;
  /** The number on the wire; differs from ERROR_CODES[code].wire only for UNKNOWN. */
  readonly wireCode: number;

  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; remote?: boolean; wireCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TunnelError';
    this.code = code;
    this.retryable = opts.retryable ?? ERROR_CODES[code].retryable;
    this.remote = opts.remote ?? false;
    this.wireCode = opts.wireCode ?? ERROR_CODES[code].wire;
  }

  /** The WebSocket close code for this error. */
  get closeCode(): number {
    return closeCodeFor(this.code);
  }
}

/** Wraps anything thrown into a TunnelError (INTERNAL_ERROR unless it already is one). */
export function toTunnelError(err: unknown, fallback: ErrorCode = 'INTERNAL_ERROR'): TunnelError {
  if (err instanceof TunnelError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TunnelError(fallback, message, { cause: err });
}

/** WebSocket close reasons are limited to 123 bytes. */
export function closeReason(message: string): string {
  const b = Buffer.from(message, 'utf8');
  if (b.length <= 123) return message;
  let end = 123;
  while (end > 0 && ((b[end] ?? 0) & 0xc0) === 0x80) end--;
  return b.subarray(0, end).toString('utf8');
}

/** Interprets a close without GOAWAY (old peer, proxy, network) as a structured error. */
export function errorForCloseCode(closeCode: number, reason: string): TunnelError {
  const opts = { remote: true };
  const why = `transport closed (${closeCode}${reason ? `: ${reason}` : ''})`;
  for (const [code, info] of Object.entries(ERROR_CODES) as [ErrorCode, (typeof ERROR_CODES)[ErrorCode]][]) {
    if (info.close === closeCode && closeCode >= 4000) return new TunnelError(code, why, opts);
  }
  if (closeCode === 1000) return new TunnelError('SESSION_CLOSED', why, opts);
  if (closeCode === 1002) return new TunnelError('PROTOCOL_ERROR', why, opts);
  return new TunnelError('TRANSPORT_CLOSED', why, opts);
}
