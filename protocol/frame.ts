// Frame types, flags and the decoded-frame union (SPEC.md §3). One WebSocket binary message
// carries exactly one frame: a 6-byte header (type, flags, stream id) and a type-specific payload
// whose length is the rest of the message. Wire numbers are append-only.

export const FRAME_TYPES = Object.freeze({
  HELLO: 0x01,
  OPEN: 0x02,
  DATA: 0x03,
  WINDOW: 0x04,
  RESET: 0x05,
  PING: 0x06,
  PONG: 0x07,
  CONTROL: 0x08,
  GOAWAY: 0x09,
} as const);

export type FrameTypeName = keyof typeof FRAME_TYPES;

/** Flag bits. Senders set undefined bits to 0; receivers ignore them (room for later minors). */
export const FLAGS = Object.freeze({
  /** DATA: the sender will send nothing more on this stream (half-close). */
  FIN: 0x01,
  /** CONTROL: a receiver that does not know this kind must refuse it. */
  REQUIRED: 0x01,
  /** RESET, GOAWAY: retrying later may succeed. */
  RETRYABLE: 0x01,
} as const);

/** Peer description carried in HELLO (JSON, schema-checked). */
export interface PeerInfo {
  /** `server`, or the agent role: `cluster`, `node`, `fleet` (or several joined by `+`). */
  role: string;
  /** Software version of the peer, e.g. the agent's `0.1.0`. */
  version: string;
  /** Optional display name (cluster id, hostname). */
  name?: string;
}

export interface Hello {
  major: number;
  minor: number;
  /** Receive window the sender grants each stream. */
  streamWindow: number;
  /** Largest DATA payload the sender accepts. */
  maxDataPayload: number;
  /** Most concurrent streams the receiver of this HELLO may open towards the sender. */
  maxStreams: number;
  /** Capability wire numbers, ascending, unique (unknown numbers are kept and ignored). */
  capabilities: number[];
  peer: PeerInfo;
}

export type Frame =
  | { type: 'HELLO'; hello: Hello }
  | { type: 'OPEN'; streamId: number; target: string; metadata: Record<string, string> }
  | { type: 'DATA'; streamId: number; fin: boolean; payload: Uint8Array }
  | { type: 'WINDOW'; streamId: number; increment: number }
  | { type: 'RESET'; streamId: number; code: number; retryable: boolean; message: string }
  | { type: 'PING'; payload: Uint8Array }
  | { type: 'PONG'; payload: Uint8Array }
  | { type: 'CONTROL'; kind: number; required: boolean; body: unknown }
  | { type: 'GOAWAY'; code: number; retryable: boolean; message: string };

/** Bytes of opaque data in PING and PONG. */
export const PING_PAYLOAD_BYTES = 8;
