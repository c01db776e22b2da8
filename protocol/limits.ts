// Every limit and timeout of the tunnel protocol, in one place, each with the reason for its
// value (SPEC.md §9). Sessions may be given tighter values per instance (`SessionLimits`), never
// looser than the wire maxima, which a peer may rely on.

/** Bytes of the fixed frame header: type (1), flags (1), stream id (4). */
export const FRAME_HEADER_BYTES = 6;

/** Largest DATA payload a peer may send unless the receiver's HELLO announces less. 64 KiB keeps
 *  per-message WebSocket overhead small while one frame never blocks other streams for long. */
export const MAX_DATA_PAYLOAD = 64 * 1024;

/** Smallest max-DATA-payload a HELLO may announce, so progress is always possible. */
export const MIN_DATA_PAYLOAD = 1024;

/** Largest CONTROL payload (kind + JSON). Control messages are small; bulk goes over streams. */
export const MAX_CONTROL_PAYLOAD = 1024 * 1024;

/** Largest `facts` control message body, serialized (the same bound as facts at registration):
 *  facts are written to the server's store on every change, so their size is bounded well below
 *  MAX_CONTROL_PAYLOAD (issue 14: 1 MiB facts were accepted and stored). */
export const MAX_FACTS_BYTES = 16 * 1024;

/** Most `extras` entries in a `facts` message. */
export const MAX_FACTS_EXTRAS = 64;

/** Largest OPEN payload (target + metadata). Bounded so a hostile peer cannot make us allocate. */
export const MAX_OPEN_PAYLOAD = 16 * 1024;

/** Longest stream target, in UTF-8 bytes. */
export const MAX_TARGET_BYTES = 1024;

/** Most metadata entries on one OPEN. */
export const MAX_METADATA_ENTRIES = 64;

/** Largest HELLO payload (numbers, capabilities, peer info JSON). */
export const MAX_HELLO_PAYLOAD = 16 * 1024;

/** Most capabilities a HELLO may list (the registry is append-only; this is generous). */
export const MAX_CAPABILITIES = 1024;

/** Longest error message carried by RESET / GOAWAY, in UTF-8 bytes (longer ones are cut). */
export const MAX_ERROR_MESSAGE_BYTES = 4096;

/** Largest WebSocket message any v1 frame can need; give it to `ws` as `maxPayload`. */
export const MAX_WS_MESSAGE = FRAME_HEADER_BYTES + MAX_CONTROL_PAYLOAD;

/** Default per-stream receive window. 512 KiB fills a loopback or LAN pipe for one stream while
 *  bounding memory to window × streams (a stalled reader holds at most this much; with
 *  DEFAULT_MAX_STREAMS all stalled, 512 MiB). Raised from 256 KiB (issue 3) so that, with
 *  WINDOW_UPDATE_DIVISOR 2, a WINDOW goes out once per 256 KiB read, 4× fewer than one per 64 KiB
 *  DATA frame: those sends were 14–19% of a receiver's CPU (decision 0150). */
export const DEFAULT_STREAM_WINDOW = 512 * 1024;

/** Largest window one stream's receive window may be auto-tuned to (flow-control.ts): a stream
 *  whose reader consumes half its window within WINDOW_GROWTH_FAST_MS of the previous credit
 *  return doubles its window, up to this. A 512 KiB window on a loaded or long path holds one
 *  stream to window/RTT (issue 12: 0.5–0.7× raw ws on loopback at load 10+); a reader that
 *  stops never grows, so a stalled stream still holds at most its window. */
export const DEFAULT_MAX_STREAM_WINDOW = 8 * 1024 * 1024;

/** Growth beyond the initial windows a whole session may grant (the sum over its streams), so
 *  the memory a peer can make a session hold stays window × streams plus this. */
export const SESSION_WINDOW_GROWTH_BYTES = 64 * 1024 * 1024;

/** Half a window consumed within this long of the previous credit return means the window is
 *  what limits the stream (≥ 12.5 MiB/s at 512 KiB); twice the measured RTT when that is longer. */
export const WINDOW_GROWTH_FAST_MS = 20;

/** Largest window a HELLO may announce (2^31 − 1, as in HTTP/2: credit arithmetic stays exact). */
export const MAX_STREAM_WINDOW = 0x7fffffff;

/** Smallest window a HELLO may announce: one full DATA frame. */
export const MIN_STREAM_WINDOW = MIN_DATA_PAYLOAD;

/** A receiver returns credit once this fraction (1/n) of its window has been consumed: batching
 *  WINDOW frames without letting the sender run dry (half a window, 256 KiB by default, is still
 *  in flight when the credit goes back). */
export const WINDOW_UPDATE_DIVISOR = 2;

/** Default most concurrent streams a peer may open towards us. */
export const DEFAULT_MAX_STREAMS = 1024;

/** Upper bound for the max-streams a HELLO may announce. */
export const MAX_MAX_STREAMS = 65535;

/** Interval between session PINGs. Short enough that NATs keep the flow, long enough to be free. */
export const PING_INTERVAL_MS = 15_000;

/** A PING unanswered for this long means the peer is dead: the session closes (PEER_TIMEOUT). */
export const PING_TIMEOUT_MS = 10_000;

/** Both HELLOs must be exchanged within this time after the transport opens. */
export const HELLO_TIMEOUT_MS = 10_000;

/** When the transport holds more than this many unsent bytes, DATA stops until it drains, so a
 *  stalled network never grows memory beyond this plus one frame. */
export const TRANSPORT_HIGH_WATER = 1024 * 1024;

/** Unsent bytes at which the session gives up on a peer that stopped reading its socket (DATA
 *  already paused at the high-water mark; only PONGs, WINDOWs and replies could pile up this far). */
export const TRANSPORT_HARD_LIMIT = 16 * 1024 * 1024;

/** Received DATA payloads smaller than this are copied into a per-stream buffer instead of kept as
 *  views into the WebSocket message, so tiny frames cannot pin large socket buffers (receive-queue.ts). */
export const COPY_BELOW_BYTES = 16 * 1024;

/** Largest size of that per-stream buffer for small payloads. */
export const RECEIVE_TAIL_BYTES = 16 * 1024;

/** First size of that buffer; it doubles while small frames keep coming, so a stream that only
 *  ever receives one small reply (an HTTP exchange) does not cost a full 16 KiB buffer, whose
 *  external memory drove major GCs at 2,000 streams/s (receive-queue.ts, issue 3). */
export const RECEIVE_TAIL_FIRST_BYTES = 2 * 1024;

/** DATA frames of at least this many bytes (header included) are built in a pooled full-size
 *  buffer; smaller ones are cheap to allocate from Node's own Buffer pool (multiplexer.ts). */
export const POOLED_FRAME_MIN_BYTES = 16 * 1024;

/** Full-size DATA frame buffers kept for reuse per session (16 × 64 KiB = the transport high-water
 *  mark), see frame-pool.ts. */
export const FRAME_POOL_SIZE = 16;

/** Largest HTTP request or response head carried over a stream (Node's own default is 16 KiB;
 *  Kubernetes requests with many impersonation headers fit easily). */
export const MAX_HTTP_HEAD_BYTES = 64 * 1024;

/** Per-session tunables; defaults above. Values beyond the wire maxima are refused. */
export interface SessionLimits {
  /** Receive window we grant each stream (announced in HELLO). */
  streamWindow: number;
  /** Largest DATA payload we accept (announced in HELLO). */
  maxDataPayload: number;
  /** Most concurrent streams the peer may open towards us (announced in HELLO). */
  maxStreams: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  helloTimeoutMs: number;
  /** Transport bytes in flight above which DATA pauses. */
  transportHighWater: number;
  /** Largest a stream's receive window may be auto-tuned to; at or below `streamWindow`, windows
   *  stay fixed (small devices, tests of exact credit). */
  maxStreamWindow: number;
}

export const DEFAULT_LIMITS: Readonly<SessionLimits> = Object.freeze({
  streamWindow: DEFAULT_STREAM_WINDOW,
  maxDataPayload: MAX_DATA_PAYLOAD,
  maxStreams: DEFAULT_MAX_STREAMS,
  pingIntervalMs: PING_INTERVAL_MS,
  pingTimeoutMs: PING_TIMEOUT_MS,
  helloTimeoutMs: HELLO_TIMEOUT_MS,
  transportHighWater: TRANSPORT_HIGH_WATER,
  maxStreamWindow: DEFAULT_MAX_STREAM_WINDOW,
});

/** Merges overrides onto the defaults and checks them against the wire bounds. */
export function resolveLimits(overrides: Partial<SessionLimits> = {}): SessionLimits {
  const l: SessionLimits = { ...DEFAULT_LIMITS, ...overrides };
  const within = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!within(l.streamWindow, MIN_STREAM_WINDOW, MAX_STREAM_WINDOW)) throw new RangeError(`streamWindow out of range: ${l.streamWindow}`);
  if (!within(l.maxDataPayload, MIN_DATA_PAYLOAD, MAX_DATA_PAYLOAD)) throw new RangeError(`maxDataPayload out of range: ${l.maxDataPayload}`);
  if (!within(l.maxStreamWindow, MIN_STREAM_WINDOW, MAX_STREAM_WINDOW)) throw new RangeError(`maxStreamWindow out of range: ${l.maxStreamWindow}`);
  if (!within(l.maxStreams, 1, MAX_MAX_STREAMS)) throw new RangeError(`maxStreams out of range: ${l.maxStreams}`);
  for (const k of ['pingIntervalMs', 'pingTimeoutMs', 'helloTimeoutMs', 'transportHighWater'] as const) {
    if (!within(l[k], 1, Number.MAX_SAFE_INTEGER)) throw new RangeError(`${k} must be a positive integer`);
  }
  return l;
}
