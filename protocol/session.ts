// The session state machine (SPEC.md §5–§8): HELLO exchange, stream multiplexing with
// per-stream flow control, control messages, ping/pong and close. Pure: no sockets and no timers
// of its own; frames go out through a FrameTransport, come in through handleFrame, and time comes
// from the injected Clock. Nothing a peer sends can make a method of this class throw.
import { EventEmitter } from 'node:events';
import { Buffer } from 'node:buffer';
import { advertisedCapabilities, CAPABILITIES, commonCapabilities, type CapabilityName } from './capabilities.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { decodeFrame, encodeFrame, writeDataHeader } from './codec.ts';
import { ERROR_CODES, errorCodeFromWire, toTunnelError, TunnelError, type ErrorCode } from './errors.ts';
import { FRAME_TYPES, FLAGS, PING_PAYLOAD_BYTES, type Frame, type Hello, type PeerInfo } from './frame.ts';
import { FRAME_HEADER_BYTES, resolveLimits, type SessionLimits } from './limits.ts';
import { checkMessage, MESSAGE_KINDS, type ControlMessage, type MessageBody, type MessageKind } from './messages.ts';
import type { FrameTransport } from './transport.ts';
import { TunnelStream, type StreamOwner } from './tunnel-stream.ts';
import { CURRENT_MINOR, majorFromSubprotocol, SUPPORTED_MAJORS, subprotocolFor, versionRefusal } from './versions.ts';

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

const EMPTY = Buffer.alloc(0);

export class Session extends EventEmitter<SessionEvents> implements StreamOwner {
  readonly side: SessionSide;
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
  private readonly localPeer: PeerInfo;
  private readonly minor: number;
  private common = new Set<number>();
  private readonly streams = new Map<number, TunnelStream>();
  private readonly writable = new Set<TunnelStream>();
  private readonly pendingOpens: TunnelStream[] = [];
  private nextLocalId: number;
  private lastPeerId = 0;
  private localOpen = 0;
  private peerOpen = 0;
  private sendMax = 0;
  private flushing = false;
  private helloTimer: TimerHandle | undefined;
  private pingTimer: TimerHandle | undefined;
  private pongTimer: TimerHandle | undefined;
  private pingSentAt = 0;
  private pingSeq = 0;
  private rtt: number | undefined;
  private remoteGoaway: TunnelError | undefined;
  private framesIn = 0;
  private framesOut = 0;
  private readonly pingWaiters: Array<{ resolve: (rtt: number) => void; reject: (err: Error) => void }> = [];

  constructor(opts: SessionOptions) {
    super();
    this.side = opts.side;
    this.transport = opts.transport;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.localPeer = opts.peer;
    this.minor = opts.minor ?? CURRENT_MINOR;
    this.limits = Object.freeze(resolveLimits(opts.limits));
    this.localCapabilities = advertisedCapabilities(opts.capabilities, opts.maskCapabilities);
    this.nextLocalId = opts.side === 'client' ? 1 : 2;
    const sub = opts.subprotocol ?? subprotocolFor(SUPPORTED_MAJORS[0] as number);
    const major = majorFromSubprotocol(sub);
    this.major = major ?? 0;
    if (major === undefined || !SUPPORTED_MAJORS.includes(major)) {
      // Deferred so that listeners attached right after construction see 'close'.
      const refusal = versionRefusal(sub);
      queueMicrotask(() => this.fail(new TunnelError('UNSUPPORTED_VERSION', refusal.message)));
      return;
    }
    this.helloTimer = this.clock.setTimeout(() => this.onHelloTimeout(), this.limits.helloTimeoutMs);
    this.sendFrame(encodeFrame({
      type: 'HELLO',
      hello: {
        major, minor: this.minor, streamWindow: this.limits.streamWindow, maxDataPayload: this.limits.maxDataPayload,
        maxStreams: this.limits.maxStreams, capabilities: [...this.localCapabilities], peer: this.localPeer,
      },
    }));
  }

  /** True when both sides advertised the capability. */
  has(cap: CapabilityName): boolean {
    return this.common.has(CAPABILITIES[cap].wire);
  }

  /** Opens a stream to `target`; usable at once (data waits for the HELLO exchange and credit). */
  openStream(target: string, metadata: Record<string, string> = {}): TunnelStream {
    const id = this.nextLocalId;
    const s = new TunnelStream(this, id, target, metadata, true, 0, this.limits.streamWindow);
    if (this.state === 'closed') {
      s.wireClosed = true;
      s.destroy(this.closedError());
      return s;
    }
    if (id > 0xffffffff - 2) {
      s.wireClosed = true;
      s.destroy(new TunnelError('STREAM_LIMIT', 'stream ids exhausted on this session; reconnect'));
      return s;
    }
    this.nextLocalId += 2;
    if (this.state === 'handshake') this.pendingOpens.push(s);
    else this.startLocalStream(s);
    return s;
  }

  /** Sends a typed control message; false if the session is closed or not yet open. */
  sendMessage<K extends MessageKind>(kind: K, body: MessageBody<K>): boolean {
    const info = MESSAGE_KINDS[kind];
    const checked = info.schema.safeParse(body);
    if (!checked.success) throw new TunnelError('MESSAGE_INVALID', `refusing to send invalid ${kind} message: ${checked.error.message.slice(0, 512)}`);
    return this.sendControl(info.wire, checked.data, info.required);
  }

  /** Sends a raw control message by wire number (kinds from newer registries, tests). */
  sendControl(kind: number, body: unknown, required = false): boolean {
    if (this.state !== 'open') return false;
    return this.sendFrame(encodeFrame({ type: 'CONTROL', kind, required, body }));
  }

  /** Sends a PING now; resolves with the round trip in ms when the PONG arrives, rejects if the
   *  session closes first. */
  ping(): Promise<number> {
    if (this.state !== 'open') return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      this.pingWaiters.push({ resolve, reject });
      if (this.pongTimer === undefined) this.sendPing();
    });
  }

  /** Ends the session: GOAWAY with `code`, WebSocket close, every open stream errors. */
  close(code: ErrorCode = 'NORMAL', message = 'session closed'): void {
    if (this.state === 'closed') return;
    this.fail(new TunnelError(code, message));
  }

  stats(): SessionStats {
    let buffered = 0;
    for (const s of this.streams.values()) {
      const st = s.stats();
      buffered += st.queuedIn + st.readableLength + st.pendingOut;
    }
    return {
      state: this.state, streams: this.streams.size, bufferedBytes: buffered, transportBuffered: this.transport.bufferedAmount(),
      framesIn: this.framesIn, framesOut: this.framesOut, rttMs: this.rtt,
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
        this.onData(b);
        return;
      }
      this.dispatch(decodeFrame(b, { maxDataPayload: this.limits.maxDataPayload }));
    } catch (err) {
      this.fail(toTunnelError(err));
    }
  }

  /** The transport drained below its high-water mark: resume DATA. */
  handleTransportDrain(): void {
    if (this.state === 'open') this.flush();
  }

  /** The transport closed (by the peer or the network). Never throws. */
  handleTransportClose(closeCode: number, reason: string): void {
    if (this.state === 'closed') return;
    const err = this.remoteGoaway ?? errorForCloseCode(closeCode, reason);
    this.finish(err, closeCode, true);
  }

  // ---- StreamOwner ----

  /** @internal */
  scheduleWrite(s: TunnelStream): void {
    this.writable.add(s);
    if (this.state === 'open' && !this.flushing) this.flush();
  }

  /** @internal */
  sendWindow(s: TunnelStream, increment: number): void {
    if (this.state !== 'open' || s.wireClosed) return;
    this.sendFrame(encodeFrame({ type: 'WINDOW', streamId: s.id, increment }));
  }

  /** @internal */
  streamDestroyed(s: TunnelStream, err: Error | null): void {
    this.writable.delete(s);
    if (s.wireClosed) return;
    const te = err === null ? new TunnelError('STREAM_CANCELLED', 'stream destroyed before it finished') : toTunnelError(err, 'STREAM_CANCELLED');
    this.forget(s);
    if (this.state === 'open') {
      this.sendFrame(encodeFrame({ type: 'RESET', streamId: s.id, code: te.wireCode, retryable: te.retryable, message: te.message }));
    } else if (this.state === 'handshake') {
      const i = this.pendingOpens.indexOf(s);
      if (i >= 0) this.pendingOpens.splice(i, 1);
    }
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
        return this.onOpen(f.streamId, f.target, f.metadata);
      case 'DATA':
        // Only reached when the fast path did not apply (kept for completeness).
        return this.onDataFrame(f.streamId, f.payload, f.fin);
      case 'WINDOW':
        return this.onWindow(f.streamId, f.increment);
      case 'RESET':
        return this.onReset(f.streamId, f.code, f.retryable, f.message);
      case 'PING':
        this.sendFrame(encodeFrame({ type: 'PONG', payload: f.payload }));
        return;
      case 'PONG':
        return this.onPong(f.payload);
      case 'CONTROL':
        return this.onControl(f.kind, f.required, f.body);
      case 'GOAWAY': {
        // The peer is done with the session; do not wait for its close handshake to fail streams.
        const err = new TunnelError(errorCodeFromWire(f.code), f.message, { retryable: f.retryable, remote: true, wireCode: f.code });
        this.remoteGoaway = err;
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
    if (h.streamWindow < 1024 || h.maxDataPayload < 1024) throw new TunnelError('HANDSHAKE_FAILED', 'peer HELLO announces a window or max DATA payload below 1024');
    this.clearTimer('helloTimer');
    this.peerHello = h;
    this.common = commonCapabilities(this.localCapabilities, h.capabilities);
    this.sendMax = Math.min(h.maxDataPayload, this.limits.maxDataPayload);
    this.state = 'open';
    this.schedulePing();
    this.logger?.debug({ peer: h.peer, minor: h.minor, capabilities: [...this.common] }, 'tunnel session open');
    this.emit('ready', h);
    for (const s of this.pendingOpens.splice(0)) {
      if (this.state !== 'open') break;
      if (!s.destroyed) this.startLocalStream(s);
    }
  }

  private startLocalStream(s: TunnelStream): void {
    const peer = this.peerHello as Hello;
    if (this.localOpen >= peer.maxStreams) {
      s.wireClosed = true;
      s.destroy(new TunnelError('STREAM_LIMIT', `peer allows ${peer.maxStreams} concurrent streams; retry when one finishes`));
      return;
    }
    let frame: Buffer;
    try {
      frame = encodeFrame({ type: 'OPEN', streamId: s.id, target: s.target, metadata: { ...s.metadata } });
    } catch (err) {
      s.wireClosed = true;
      s.destroy(toTunnelError(err));
      return;
    }
    s.sendCredit.credit = peer.streamWindow;
    this.streams.set(s.id, s);
    this.localOpen++;
    this.sendFrame(frame);
    if (s.pending !== null || s.finalCallback !== null) this.scheduleWrite(s);
  }

  private onOpen(id: number, target: string, metadata: Record<string, string>): void {
    const peerParity = this.side === 'client' ? 0 : 1;
    if (id % 2 !== peerParity || id <= this.lastPeerId) throw new TunnelError('PROTOCOL_ERROR', `OPEN with invalid stream id ${id}`);
    this.lastPeerId = id;
    const refuse = (code: ErrorCode, message: string) => {
      this.sendFrame(encodeFrame({ type: 'RESET', streamId: id, code: ERROR_CODES[code].wire, retryable: ERROR_CODES[code].retryable, message }));
    };
    if (this.peerOpen >= this.limits.maxStreams) return refuse('STREAM_LIMIT', `at most ${this.limits.maxStreams} concurrent streams; retry when one finishes`);
    if (this.listenerCount('stream') === 0) return refuse('STREAM_REFUSED', `this peer accepts no streams (target ${target.slice(0, 64)})`);
    const peer = this.peerHello as Hello;
    const s = new TunnelStream(this, id, target, metadata, false, peer.streamWindow, this.limits.streamWindow);
    this.streams.set(id, s);
    this.peerOpen++;
    this.emit('stream', s);
  }

  private lookup(id: number): TunnelStream | undefined {
    const s = this.streams.get(id);
    if (s !== undefined) return s;
    // Frames for a stream that has already closed are late, not wrong; ids never opened are wrong.
    const mine = (id % 2 === 1) === (this.side === 'client');
    const seen = mine ? id < this.nextLocalId : id <= this.lastPeerId;
    if (!seen) throw new TunnelError('PROTOCOL_ERROR', `frame for stream ${id}, which was never opened`);
    return undefined;
  }

  private onData(b: Uint8Array): void {
    const id = (((b[2] as number) << 24) >>> 0) + (((b[3] as number) << 16) | ((b[4] as number) << 8) | (b[5] as number));
    const n = b.length - FRAME_HEADER_BYTES;
    const fin = ((b[1] as number) & FLAGS.FIN) !== 0;
    if (id === 0) throw new TunnelError('FRAME_MALFORMED', 'DATA needs a non-zero stream id');
    if (n > this.limits.maxDataPayload) throw new TunnelError('FRAME_TOO_LARGE', `DATA payload of ${n} bytes exceeds the announced ${this.limits.maxDataPayload}`);
    if (n === 0 && !fin) throw new TunnelError('FRAME_MALFORMED', 'empty DATA frame without FIN');
    this.onDataFrame(id, n === 0 ? EMPTY : b.subarray(FRAME_HEADER_BYTES), fin);
  }

  private onDataFrame(id: number, payload: Uint8Array, fin: boolean): void {
    const s = this.lookup(id);
    if (s === undefined) return;
    if (s.remoteFin) throw new TunnelError('PROTOCOL_ERROR', `DATA on stream ${id} after FIN`);
    if (!s.recvWindow.receive(payload.length)) throw new TunnelError('FLOW_CONTROL_ERROR', `stream ${id}: peer sent beyond its credit`);
    s.deliver(payload, fin);
    if (fin && s.localFin) this.forget(s);
  }

  private onWindow(id: number, increment: number): void {
    const s = this.lookup(id);
    if (s === undefined || s.localFin) return;
    if (!s.sendCredit.grant(increment)) throw new TunnelError('FLOW_CONTROL_ERROR', `stream ${id}: window above 2^31-1`);
    if (s.pending !== null || s.finalCallback !== null) this.scheduleWrite(s);
  }

  private onReset(id: number, wire: number, retryable: boolean, message: string): void {
    const s = this.lookup(id);
    if (s === undefined) return;
    this.forget(s);
    s.destroy(new TunnelError(errorCodeFromWire(wire), message, { retryable, remote: true, wireCode: wire }));
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
    this.logger?.warn({ kind, code }, 'refusing control message');
    this.sendControl(MESSAGE_KINDS.error.wire, { code, retryable: false, message: message.slice(0, 4096), ref: { kind } });
  }

  // ---- outbound ----

  private sendFrame(frame: Uint8Array): boolean {
    this.framesOut++;
    this.transport.send(frame);
    return true;
  }

  private congested(): boolean {
    return this.transport.bufferedAmount() >= this.limits.transportHighWater;
  }

  /** Round-robin over streams with something to send: one frame each per pass, so a stream with
   *  a lot to send cannot starve the others, and stop while the transport is congested. */
  private flush(): void {
    this.flushing = true;
    try {
      while (this.writable.size > 0 && this.state === 'open' && !this.congested()) {
        for (const s of this.writable) {
          if (!this.sendOne(s)) this.writable.delete(s);
          if (this.state !== 'open' || this.congested()) break;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Sends at most one DATA frame for `s`; returns whether it may have more to send now. */
  private sendOne(s: TunnelStream): boolean {
    if (s.wireClosed || s.destroyed) return false;
    const chunk = s.pending;
    if (chunk !== null) {
      const left = chunk.length - s.pendingOffset;
      const n = Math.min(left, s.sendCredit.credit, this.sendMax);
      if (n <= 0) return false;
      const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + n);
      writeDataHeader(frame, s.id, false);
      frame.set(n === chunk.length ? chunk : chunk.subarray(s.pendingOffset, s.pendingOffset + n), FRAME_HEADER_BYTES);
      s.sendCredit.spend(n);
      s.pendingOffset += n;
      this.sendFrame(frame);
      if (s.pendingOffset === chunk.length) {
        const cb = s.pendingCallback;
        s.pending = null;
        s.pendingCallback = null;
        cb?.();
      }
      return s.pending !== null || s.finalCallback !== null;
    }
    const fin = s.finalCallback;
    if (fin !== null) {
      s.finalCallback = null;
      s.localFin = true;
      const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
      writeDataHeader(frame, s.id, true);
      this.sendFrame(frame);
      if (s.remoteFin) this.forget(s);
      fin();
    }
    return false;
  }

  private forget(s: TunnelStream): void {
    if (s.wireClosed) return;
    s.wireClosed = true;
    this.writable.delete(s);
    if (this.streams.delete(s.id)) {
      if (s.local) this.localOpen--;
      else this.peerOpen--;
    }
  }

  // ---- liveness ----

  private schedulePing(): void {
    this.clearTimer('pingTimer');
    this.pingTimer = this.clock.setTimeout(() => {
      this.pingTimer = undefined;
      if (this.state !== 'open') return;
      if (this.pongTimer === undefined) this.sendPing();
      this.schedulePing();
    }, this.limits.pingIntervalMs);
  }

  private sendPing(): void {
    if (this.state !== 'open') return;
    const payload = Buffer.alloc(PING_PAYLOAD_BYTES);
    payload.writeUInt32BE(++this.pingSeq, 4);
    this.pingSentAt = this.clock.now();
    this.sendFrame(encodeFrame({ type: 'PING', payload }));
    this.pongTimer = this.clock.setTimeout(() => {
      this.pongTimer = undefined;
      this.fail(new TunnelError('PEER_TIMEOUT', `no PONG within ${this.limits.pingTimeoutMs} ms; peer presumed dead`));
    }, this.limits.pingTimeoutMs);
  }

  private onPong(payload: Uint8Array): void {
    if (this.pongTimer === undefined) return;
    const seq = ((payload[4] as number) * 0x1000000) + (((payload[5] as number) << 16) | ((payload[6] as number) << 8) | (payload[7] as number));
    if (seq !== this.pingSeq) return;
    this.clearTimer('pongTimer');
    this.rtt = this.clock.now() - this.pingSentAt;
    for (const w of this.pingWaiters.splice(0)) w.resolve(this.rtt);
  }

  private onHelloTimeout(): void {
    this.helloTimer = undefined;
    if (this.state === 'handshake') this.fail(new TunnelError('HANDSHAKE_FAILED', `no HELLO within ${this.limits.helloTimeoutMs} ms`));
  }

  private clearTimer(name: 'helloTimer' | 'pingTimer' | 'pongTimer'): void {
    const t = this[name];
    if (t !== undefined) {
      this.clock.clearTimeout(t);
      this[name] = undefined;
    }
  }

  // ---- closing ----

  /** Ends the session because of `err` (local): GOAWAY, close the transport, error the streams. */
  private fail(err: TunnelError): void {
    if (this.state === 'closed') return;
    if (this.major !== 0) {
      this.sendFrame(encodeFrame({ type: 'GOAWAY', code: err.wireCode, retryable: err.retryable, message: err.message }));
    }
    const closeCode = err.closeCode;
    if (err.code === 'PEER_TIMEOUT' && this.transport.abort !== undefined) this.transport.abort();
    else this.transport.close(closeCode, closeReason(err.message));
    if (err.code !== 'NORMAL') this.logger?.warn({ code: err.code, closeCode }, 'tunnel session failed');
    this.finish(err, closeCode, false);
  }

  private finish(err: TunnelError, closeCode: number, remote: boolean): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimer('helloTimer');
    this.clearTimer('pingTimer');
    this.clearTimer('pongTimer');
    this.closeInfo = { code: err.code, closeCode, message: err.message, remote: remote || err.remote, retryable: err.retryable };
    const streamErr = err.code === 'NORMAL' ? new TunnelError('SESSION_CLOSED', `session closed: ${err.message}`, { remote }) : err;
    const all = [...this.streams.values(), ...this.pendingOpens.splice(0)];
    this.streams.clear();
    this.writable.clear();
    for (const s of all) {
      s.wireClosed = true;
      s.destroy(streamErr);
    }
    for (const w of this.pingWaiters.splice(0)) w.reject(streamErr);
    this.emit('close', this.closeInfo);
  }

  private closedError(): TunnelError {
    const i = this.closeInfo;
    return new TunnelError('SESSION_CLOSED', `session is ${this.state === 'closed' ? 'closed' : 'not open yet'}${i === undefined ? '' : ` (${i.code}: ${i.message})`}`);
  }
}

/** WebSocket close reasons are limited to 123 bytes. */
function closeReason(message: string): string {
  let r = message;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

/** Interprets a close without GOAWAY (old peer, proxy, network) as a structured error. */
function errorForCloseCode(closeCode: number, reason: string): TunnelError {
  const opts = { remote: true };
  const why = `transport closed (${closeCode}${reason ? `: ${reason}` : ''})`;
  for (const [code, info] of Object.entries(ERROR_CODES) as [ErrorCode, (typeof ERROR_CODES)[ErrorCode]][]) {
    if (info.close === closeCode && closeCode >= 4000) return new TunnelError(code, why, opts);
  }
  if (closeCode === 1000) return new TunnelError('SESSION_CLOSED', why, opts);
  if (closeCode === 1002) return new TunnelError('PROTOCOL_ERROR', why, opts);
  return new TunnelError('TRANSPORT_CLOSED', why, opts);
}
