// Types of the session's public surface (options, events, close info, stats), apart from the
// state machine in session.ts so that callers and adapters can name them cheaply.
import type { CapabilityName } from './capabilities.ts';
import type { Clock } from './clock.ts';
import type { ErrorCode } from './errors.ts';
import type { Hello, PeerInfo } from './frame.ts';
import type { SessionLimits } from './limits.ts';
import type { ControlMessage } from './messages.ts';
import type { FrameTransport } from './transport.ts';
import type { TunnelStream } from './tunnel-stream.ts';

export type SessionSide = 'client' | 'server';
export type SessionState = 'handshake' | 'open' | 'closed';

/** Minimal structured logger (pino-compatible); the protocol never logs payloads or secrets. */
export interface ProtocolLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface SessionOptions {
  /** `client` opened the WebSocket (odd stream ids), `server` accepted it (even ids). */
  side: SessionSide;
  transport: FrameTransport;
  clock: Clock;
  /** Who we are, sent in HELLO. */
  peer: PeerInfo;
  /** The subprotocol the WebSocket negotiated (`ws.protocol`); default `drover.v<newest>`. An
   *  empty or foreign value closes the session at once with UNSUPPORTED_VERSION (4000). */
  subprotocol?: string;
  /** Minor version we announce; default CURRENT_MINOR. */
  minor?: number;
  /** Capability wire numbers to advertise; default every registered capability. */
  capabilities?: readonly number[];
  /** Capabilities to withhold (tests and operators exercising old-peer paths). */
  maskCapabilities?: readonly (number | CapabilityName)[];
  limits?: Partial<SessionLimits>;
  logger?: ProtocolLogger;
}

/** Why a session ended; passed to the 'close' event and kept in `Session.closeInfo`. */
export interface SessionCloseInfo {
  code: ErrorCode;
  /** WebSocket close code sent or received. */
  closeCode: number;
  message: string;
  /** True when the peer (GOAWAY or close frame) ended it. */
  remote: boolean;
  retryable: boolean;
}

export interface SessionStats {
  state: SessionState;
  streams: number;
  /** Bytes held by the session for all streams (queued in + pending out + Readable buffers). */
  bufferedBytes: number;
  transportBuffered: number;
  framesIn: number;
  framesOut: number;
  /** Last measured PING round trip, ms (undefined before the first PONG). */
  rttMs: number | undefined;
}

export interface SessionEvents {
  /** Both HELLOs exchanged; `peerHello` is set. */
  ready: [hello: Hello];
  /** The peer opened a stream. With no listener, the stream is refused (STREAM_REFUSED). */
  stream: [stream: TunnelStream];
  /** A validated control message of a known kind. */
  message: [message: ControlMessage];
  /** The session ended; all streams have been destroyed with an error. Emitted once. */
  close: [info: SessionCloseInfo];
}
