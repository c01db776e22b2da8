// The session state machine (SPEC.md §5–§9): HELLO exchange, dispatch of received frames,
// control messages, liveness and close. Streams live in the Multiplexer, ping/pong in Liveness.
// Pure: no sockets and no timers of its own; frames go out through a FrameTransport, come in
// through handleFrame, and time comes from the injected Clock. Nothing a peer sends can make a
// method of this class throw.
import { EventEmitter } from 'node:events';
import { advertisedCapabilities, CAPABILITIES, commonCapabilities, type CapabilityName } from './capabilities.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { decodeFrame, encodeFrame } from './codec.ts';
import { closeReason, errorCodeFromWire, errorForCloseCode, toTunnelError, TunnelError, type ErrorCode } from './errors.ts';
import { FRAME_TYPES, type Frame, type Hello, type PeerInfo } from './frame.ts';
import { DEFAULT_LIMITS, FRAME_HEADER_BYTES, MIN_DATA_PAYLOAD, MIN_STREAM_WINDOW, resolveLimits, TRANSPORT_HARD_LIMIT, type SessionLimits } from './limits.ts';
import { Liveness } from './liveness.ts';
import { checkMessage, MESSAGE_KINDS, type MessageBody, type MessageKind } from './messages.ts';
import { Multiplexer } from './multiplexer.ts';
import type { ProtocolLogger, SessionCloseInfo, SessionEvents, SessionOptions, SessionSide, SessionState, SessionStats } from './session-types.ts';
import type { FrameTransport } from './transport.ts';
import type { TunnelStream } from './tunnel-stream.ts';
import { CURRENT_MINOR, majorFromSubprotocol, SUPPORTED_MAJORS, subprotocolFor, versionRefusal } from './versions.ts';

export type { ProtocolLogger, SessionCloseInfo, SessionEvents, SessionOptions, SessionSide, SessionState, SessionStats } from './session-types.ts';

/** Resolved limits, shared by the sessions created with the same overrides object (a server
 *  passes one for all of its 20k sessions) or with none. */
const resolvedLimits = new WeakMap<Partial<SessionLimits>, Readonly<SessionLimits>>();
function sharedLimits(overrides: Partial<SessionLimits> | undefined): Readonly<SessionLimits> {
  if (overrides === undefined) return DEFAULT_LIMITS;
  let l = resolvedLimits.get(overrides);
  if (l === undefined) resolvedLimits.set(overrides, (l = Object.freeze(resolveLimits(overrides))));
  return l;
}

export class Session extends EventEmitter<SessionEvents> {
  readonly side: SessionSide;
  /** Major version from the subprotocol (0 when it named none we support). */
  readonly major: number;
  readonly limits: Readonly<SessionLimits>;
  /** Capability wire numbers we advertise. */
  readonly localCapabilities: readonly number[];
  state: SessionState = 'handshake';
  /** The peer's HELLO, once received. */
  peerHello: Hello | undefined;
  closeInfo: SessionCloseInfo | undefined;

  private readonly transport: FrameTransport;
  private readonly clock: Clock;
  private readonly logger: ProtocolLogger | undefined;
  private readonly minor: number;
  private readonly mux: Multiplexer;
  private readonly liveness: Liveness;
  private common = new Set<number>();
  private helloTimer: TimerHandle | undefined;
  private framesIn = 0;
  private framesOut = 0;
  private failing = false;
  /** Unsent bytes at which the peer counts as not reading; above any legitimate backlog. */
  private readonly hardLimit: number;

  constructor(opts: SessionOptions) {
    super();
    this.side = opts.side;
    this.transport = opts.transport;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.minor = opts.minor ?? CURRENT_MINOR;
    // Sessions on defaults share one frozen object (a server holds 20k of them).
    this.limits = sharedLimits(opts.limits);
    this.localCapabilities = advertisedCapabilities(opts.capabilities, opts.maskCapabilities);
    this.hardLimit = Math.max(TRANSPORT_HARD_LIMIT, 4 * this.limits.transportHighWater);
    this.mux = new Multiplexer({
      isOpen: () => this.state === 'open',
      isClosed: () => this.state === 'closed',
      sendFrame: (f, release) => this.sendFrame(f, release),
      congested: () => this.transport.bufferedAmount() >= this.limits.transportHighWater,
      accept: (s) => this.listenerCount('stream') > 0 && this.emit('stream', s),
      closedError: () => this.closedError(),
      now: () => this.clock.now(),
    }, this.side, this.limits);
    this.liveness = new Liveness(this.clock, this.limits.pingIntervalMs, this.limits.pingTimeoutMs, {
      sendPing: (payload) => {
        if (this.state === 'open') this.sendFrame(encodeFrame({ type: 'PING', payload }));
      },
      peerDead: (ms) => this.fail(new TunnelError('PEER_TIMEOUT', `no PONG within ${ms} ms; peer presumed dead`)),
    });
    const sub = opts.subprotocol ?? subprotocolFor(SUPPORTED_MAJORS[0] as number);
    const major = majorFromSubprotocol(sub);
    this.major = major !== undefined && SUPPORTED_MAJORS.includes(major) ? major : 0;
    if (this.major === 0) {
      // Deferred so that listeners attached right after construction see 'close'.
      const refusal = versionRefusal(sub);
      queueMicrotask(() => this.fail(new TunnelError('UNSUPPORTED_VERSION', refusal.message)));
      return;
    }
    this.helloTimer = this.clock.setTimeout(() => this.onHelloTimeout(), this.limits.helloTimeoutMs);
    this.sendFrame(encodeFrame({
      type: 'HELLO',
      hello: {
        major: this.major, minor: this.minor, streamWindow: this.limits.streamWindow, maxDataPayload: this.limits.maxDataPayload,
        maxStreams: this.limits.maxStreams, capabilities: [...this.localCapabilities], peer: opts.peer,
      },
    }));
  }

  /** True when both sides advertised the capability. */
  has(cap: CapabilityName): boolean {
    return this.common.has(CAPABILITIES[cap].wire);
  }

  /** Opens a stream to `target`; usable at once (data waits for the HELLO exchange and credit). */
  openStream(target: string, metadata: Record<string, string> = {}): TunnelStream {
    return this.mux.open(target, metadata);
  }

  /** Sends a typed control message; false if the session is not open. Throws MESSAGE_INVALID
   *  (locally) when the body fails its schema. */
  sendMessage<K extends MessageKind>(kind: K, body: MessageBody<K>): boolean {
    const info = MESSAGE_KINDS[kind];
    const checked = info.schema.safeParse(body);
    if (!checked.success) throw new TunnelError('MESSAGE_INVALID', `refusing to send invalid ${kind} message: ${checked.error.message.slice(0, 512)}`);
    return this.sendControl(info.wire, checked.data, info.required);
  }

  /** Sends a raw control message by wire number (kinds from newer registries, tests). */
  sendControl(kind: number, body: unknown, required = false): boolean {
    if (this.state !== 'open') return false;
    this.sendFrame(encodeFrame({ type: 'CONTROL', kind, required, body }));
    return true;
  }

  /** Sends a PING now; resolves with the round trip in ms when the PONG arrives, rejects if the
   *  session closes first. */
  ping(): Promise<number> {
    if (this.state !== 'open') return Promise.reject(this.closedError());
    return this.liveness.ping();
  }

  /** Ends the session: GOAWAY with `code`, WebSocket close, every open stream errors. */
  close(code: ErrorCode = 'NORMAL', message = 'session closed'): void {
    if (this.state === 'closed') return;
    this.fail(new TunnelError(code, message));
  }

  stats(): SessionStats {
    const m = this.mux.stats();
    return {
      state: this.state, streams: m.streams, bufferedBytes: m.bufferedBytes, transportBuffered: this.transport.bufferedAmount(),
      framesIn: this.framesIn, framesOut: this.framesOut, rttMs: this.liveness.rtt,
    };
  }

  // ---- transport input ----

  /** Feeds one received frame (one binary WebSocket message). Never throws. */
  handleFrame(b: Uint8Array): void {
    if (this.state === 'closed') return;
    this.framesIn++;
    try {
      // Fast path: DATA is the bulk of traffic; decode its header in place, no frame object.
      if (b.length >= FRAME_HEADER_BYTES && b[0] === FRAME_TYPES.DATA && this.state === 'open') {
        this.mux.onDataBytes(b);
        return;
      }
      // Any other frame proves the peer alive (DATA is left out to keep the fast path clock-free:
      // a busy stream then just keeps the periodic PING).
      if (this.state === 'open') this.liveness.heard();
      this.dispatch(decodeFrame(b, { maxDataPayload: this.limits.maxDataPayload }));
    } catch (err) {
      this.fail(toTunnelError(err));
    }
  }

  /** The transport drained below its high-water mark: resume DATA. */
  handleTransportDrain(): void {
    if (this.state === 'open') this.mux.flush();
  }

  /** The transport closed (by the peer or the network). Never throws. */
  handleTransportClose(closeCode: number, reason: string): void {
    if (this.state === 'closed') return;
    this.finish(errorForCloseCode(closeCode, reason), closeCode, true);
  }

  // ---- inbound ----

  private dispatch(f: Frame): void {
    if (this.state === 'handshake' && f.type !== 'HELLO' && f.type !== 'GOAWAY') {
      throw new TunnelError('HANDSHAKE_FAILED', `expected HELLO, got ${f.type}`);
    }
    switch (f.type) {
      case 'HELLO':
        return this.onHello(f.hello);
      case 'OPEN':
        return this.mux.onOpen(f.streamId, f.target, f.metadata);
      case 'DATA':
        // Only reached when the fast path did not apply (kept for completeness).
        return this.mux.onData(f.streamId, f.payload, f.fin);
      case 'WINDOW':
        return this.mux.onWindow(f.streamId, f.increment);
      case 'RESET':
        return this.mux.onReset(f.streamId, f.code, f.retryable, f.message);
      case 'PING':
        this.sendFrame(encodeFrame({ type: 'PONG', payload: f.payload }));
        return;
      case 'PONG':
        this.liveness.onPong(f.payload);
        if (this.liveness.rtt !== undefined) this.mux.setRtt(this.liveness.rtt);
        return;
      case 'CONTROL':
        return this.onControl(f.kind, f.required, f.body);
      case 'GOAWAY': {
        // The peer is done with the session; do not wait for its close handshake to fail streams.
        const err = new TunnelError(errorCodeFromWire(f.code), f.message, { retryable: f.retryable, remote: true, wireCode: f.code });
        this.transport.close(1000, 'GOAWAY received');
        this.finish(err, err.closeCode, true);
        return;
      }
      default: {
        const unreachable: never = f;
        throw new TunnelError('UNKNOWN_FRAME_TYPE', `unhandled frame ${String(unreachable)}`);
      }
    }
  }

  private onHello(h: Hello): void {
    if (this.state !== 'handshake') throw new TunnelError('PROTOCOL_ERROR', 'second HELLO');
    if (h.major !== this.major) throw new TunnelError('UNSUPPORTED_VERSION', `peer HELLO says major ${h.major} on subprotocol ${subprotocolFor(this.major)}`);
    if (h.streamWindow < MIN_STREAM_WINDOW || h.maxDataPayload < MIN_DATA_PAYLOAD) {
      throw new TunnelError('HANDSHAKE_FAILED', `peer HELLO announces a window or max DATA payload below ${MIN_DATA_PAYLOAD}`);
    }
    this.clearHelloTimer();
    this.peerHello = h;
    this.common = commonCapabilities(this.localCapabilities, h.capabilities);
    this.state = 'open';
    this.liveness.start();
    this.logger?.debug({ peer: h.peer, minor: h.minor, capabilities: [...this.common] }, 'tunnel session open');
    this.emit('ready', h);
    if (this.state === 'open') this.mux.peerReady(h);
  }

  private onControl(kind: number, required: boolean, body: unknown): void {
    const verdict = checkMessage(kind, required, body);
    if (verdict.ok) {
      this.emit('message', verdict.message);
      return;
    }
    if (verdict.reason === 'unknown-optional') {
      this.logger?.debug({ kind }, 'ignoring unknown optional control message');
      return;
    }
    const code: ErrorCode = verdict.reason === 'unknown-required' ? 'UNKNOWN_REQUIRED_MESSAGE' : 'MESSAGE_INVALID';
    const message = verdict.reason === 'unknown-required'
      ? `control message kind ${kind} is required but unknown to this peer (protocol ${this.major}.${this.minor}); upgrade it`
      : `control message ${verdict.kind} failed its schema: ${verdict.detail}`;
    // The `error` reply is CONTROL_ERRORS' feature: sent only when both HELLOs list it (SPEC §7).
    if (!this.has('CONTROL_ERRORS')) {
      this.logger?.warn({ kind, code }, 'dropping a refused control message (the peer did not advertise CONTROL_ERRORS)');
      return;
    }
    this.logger?.warn({ kind, code }, 'refusing control message');
    this.sendControl(MESSAGE_KINDS.error.wire, { code, retryable: false, message: message.slice(0, 4096), ref: { kind } });
  }

  // ---- outbound and timers ----

  private sendFrame(frame: Uint8Array, release?: () => void): void {
    this.framesOut++;
    this.transport.send(frame, release);
    // A peer that sends PINGs or bad OPENs but never reads would make us queue replies forever.
    if (this.state !== 'closed' && !this.failing && this.transport.bufferedAmount() > this.hardLimit) {
      this.fail(new TunnelError('PEER_NOT_READING', `peer is not reading: more than ${this.hardLimit} bytes unsent`));
    }
  }

  private onHelloTimeout(): void {
    this.helloTimer = undefined;
    if (this.state === 'handshake') this.fail(new TunnelError('HANDSHAKE_FAILED', `no HELLO within ${this.limits.helloTimeoutMs} ms`));
  }

  private clearHelloTimer(): void {
    if (this.helloTimer !== undefined) this.clock.clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
  }

  // ---- closing ----

  /** Ends the session because of `err` (local): GOAWAY, close the transport, error the streams. */
  private fail(err: TunnelError): void {
    if (this.state === 'closed' || this.failing) return;
    this.failing = true;
    if (this.major !== 0) {
      this.sendFrame(encodeFrame({ type: 'GOAWAY', code: err.wireCode, retryable: err.retryable, message: err.message }));
    }
    const closeCode = err.closeCode;
    // A dead peer will not answer a closing handshake; drop the connection instead.
    if (err.code === 'PEER_TIMEOUT' && this.transport.abort !== undefined) this.transport.abort();
    else this.transport.close(closeCode, closeReason(err.message));
    if (err.code !== 'NORMAL') this.logger?.warn({ code: err.code, closeCode }, 'tunnel session failed');
    this.finish(err, closeCode, false);
  }

  private finish(err: TunnelError, closeCode: number, remote: boolean): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearHelloTimer();
    this.closeInfo = { code: err.code, closeCode, message: err.message, remote: remote || err.remote, retryable: err.retryable };
    const streamErr = err.code === 'NORMAL' ? new TunnelError('SESSION_CLOSED', `session closed: ${err.message}`, { remote }) : err;
    this.mux.closeAll(streamErr);
    this.liveness.stop(streamErr);
    this.emit('close', this.closeInfo);
  }

  private closedError(): TunnelError {
    const i = this.closeInfo;
    return new TunnelError('SESSION_CLOSED', `session is ${this.state === 'closed' ? 'closed' : 'not open yet'}${i === undefined ? '' : ` (${i.code}: ${i.message})`}`);
  }
}
