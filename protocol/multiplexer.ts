// The stream multiplexer of a session (SPEC.md §6): stream ids and limits, OPEN/DATA/WINDOW/
// RESET handling, and the outbound scheduler that frames stream writes within each stream's
// credit, round-robin across streams, pausing while the transport is congested.
import { Buffer } from 'node:buffer';
import { writeDataHeader, encodeFrame } from './codec.ts';
import { ERROR_CODES, errorCodeFromWire, toTunnelError, TunnelError, type ErrorCode } from './errors.ts';
import { FLAGS, type Hello } from './frame.ts';
import { FRAME_HEADER_BYTES, POOLED_FRAME_MIN_BYTES, SESSION_WINDOW_GROWTH_BYTES, WINDOW_GROWTH_FAST_MS, type SessionLimits } from './limits.ts';
import type { WindowGrowth } from './flow-control.ts';
import type { SessionSide } from './session-types.ts';
import { FramePool } from './frame-pool.ts';

const STREAM_DESTROYED = new TunnelError('STREAM_CANCELLED', 'stream destroyed before it finished');
import { TunnelStream, type StreamOwner } from './tunnel-stream.ts';

/** What the multiplexer needs from its session. */
export interface MultiplexerHost {
  /** True once both HELLOs are exchanged and until the session ends. */
  isOpen(): boolean;
  isClosed(): boolean;
  sendFrame(frame: Uint8Array, release?: () => void): void;
  /** The transport holds more than its high-water mark: stop sending DATA. */
  congested(): boolean;
  /** Hands a peer-opened stream to the application; false if nobody listens. */
  accept(s: TunnelStream): boolean;
  closedError(): TunnelError;
  /** The session's clock (ms), for window auto-tuning. */
  now(): number;
}

const EMPTY = Buffer.alloc(0);
const MAX_STREAM_ID = 0xffffffff;

export class Multiplexer implements StreamOwner {
  private readonly host: MultiplexerHost;
  private readonly side: SessionSide;
  private readonly limits: Readonly<SessionLimits>;
  private readonly streams = new Map<number, TunnelStream>();
  /** Streams with data or a FIN to send (insertion order = round-robin order). */
  private readonly writable = new Set<TunnelStream>();
  /** Streams opened before the peer's HELLO; their OPEN goes out when it arrives. */
  private readonly pendingOpens: TunnelStream[] = [];
  private peer: Hello | undefined;
  private nextLocalId: number;
  private lastPeerId = 0;
  private localOpen = 0;
  private peerOpen = 0;
  private sendMax = 0;
  private flushing = false;
  /** Credit to return per stream at the end of this turn (sendWindow). */
  private readonly windowsDue = new Map<TunnelStream, number>();
  private windowsScheduled = false;
  private pool = new FramePool(0);
  /** Smallest frame built in a pooled buffer (all full-size frames are). */
  private poolFrom = POOLED_FRAME_MIN_BYTES;
  /** Window auto-tuning terms shared by this session's streams; undefined when windows are fixed. */
  private readonly growth: WindowGrowth | undefined;

  constructor(host: MultiplexerHost, side: SessionSide, limits: Readonly<SessionLimits>) {
    this.host = host;
    this.side = side;
    this.limits = limits;
    this.nextLocalId = side === 'client' ? 1 : 2;
    this.growth = limits.maxStreamWindow > limits.streamWindow
      ? { max: limits.maxStreamWindow, left: SESSION_WINDOW_GROWTH_BYTES, fastMs: WINDOW_GROWTH_FAST_MS, now: () => host.now() }
      : undefined;
  }

  /** The session measured a round trip: a window returned faster than two of them is too small. */
  setRtt(ms: number): void {
    if (this.growth !== undefined) this.growth.fastMs = Math.max(WINDOW_GROWTH_FAST_MS, 2 * ms);
  }

  /** The peer's HELLO arrived: learn its limits and send the OPENs that were waiting. */
  peerReady(peer: Hello): void {
    this.peer = peer;
    this.sendMax = Math.min(peer.maxDataPayload, this.limits.maxDataPayload);
    this.pool = new FramePool(FRAME_HEADER_BYTES + this.sendMax);
    this.poolFrom = Math.min(POOLED_FRAME_MIN_BYTES, FRAME_HEADER_BYTES + this.sendMax);
    for (const s of this.pendingOpens.splice(0)) {
      if (!this.host.isOpen()) break;
      if (!s.destroyed) this.startLocal(s);
    }
  }

  open(target: string, metadata: Record<string, string>): TunnelStream {
    const id = this.nextLocalId;
    const s = new TunnelStream(this, id, target, metadata, true, 0, this.limits.streamWindow, this.growth);
    if (this.host.isClosed()) return this.abandon(s, this.host.closedError());
    if (id > MAX_STREAM_ID - 2) return this.abandon(s, new TunnelError('STREAM_LIMIT', 'stream ids exhausted on this session; reconnect'));
    this.nextLocalId += 2;
    if (this.peer === undefined) this.pendingOpens.push(s);
    else this.startLocal(s);
    return s;
  }

  stats(): { streams: number; bufferedBytes: number } {
    let buffered = 0;
    for (const s of this.streams.values()) {
      const st = s.stats();
      buffered += st.queuedIn + st.readableLength + st.pendingOut;
    }
    return { streams: this.streams.size, bufferedBytes: buffered };
  }

  /** The session ended: every stream fails with `err`. */
  closeAll(err: TunnelError): void {
    const all = [...this.streams.values(), ...this.pendingOpens.splice(0)];
    this.streams.clear();
    this.writable.clear();
    for (const s of all) {
      s.wireClosed = true;
      s.destroy(err);
    }
  }

  // ---- StreamOwner ----

  /** @internal */
  scheduleWrite(s: TunnelStream): void {
    this.writable.add(s);
    if (this.host.isOpen() && !this.flushing) this.flush();
  }

  /** @internal Credit is returned once per turn of the event loop (a microtask after the reads
   *  that consumed it), one WINDOW per stream with the sum: a reader draining several frames in
   *  one turn costs one frame and one socket write, not one each (issue 3: WINDOW sends were
   *  14–19% of a receiver's CPU). */
  sendWindow(s: TunnelStream, increment: number): void {
    if (!this.host.isOpen() || s.wireClosed) return;
    this.windowsDue.set(s, (this.windowsDue.get(s) ?? 0) + increment);
    if (!this.windowsScheduled) {
      this.windowsScheduled = true;
      queueMicrotask(this.flushWindows);
    }
  }

  private readonly flushWindows = (): void => {
    this.windowsScheduled = false;
    for (const [s, increment] of this.windowsDue) {
      if (!this.host.isOpen()) break;
      if (!s.wireClosed) this.host.sendFrame(encodeFrame({ type: 'WINDOW', streamId: s.id, increment }));
    }
    this.windowsDue.clear();
  };

  /** @internal */
  streamDestroyed(s: TunnelStream, err: Error | null): void {
    this.writable.delete(s);
    if (s.wireClosed) return;
    // A plain destroy (the common end of a request stream) reuses one error: only its code and
    // message go on the wire, and building a fresh one (with a stack) per stream showed in profiles.
    const te = err === null ? STREAM_DESTROYED : toTunnelError(err, 'STREAM_CANCELLED');
    const wasOpened = this.streams.has(s.id);
    this.forget(s);
    if (wasOpened && this.host.isOpen()) {
      this.host.sendFrame(encodeFrame({ type: 'RESET', streamId: s.id, code: te.wireCode, retryable: te.retryable, message: te.message }));
    } else {
      const i = this.pendingOpens.indexOf(s);
      if (i >= 0) this.pendingOpens.splice(i, 1);
    }
  }

  // ---- inbound (callers have checked the session is open) ----

  onOpen(id: number, target: string, metadata: Record<string, string>): void {
    const peerParity = this.side === 'client' ? 0 : 1;
    if (id % 2 !== peerParity || id <= this.lastPeerId) throw new TunnelError('PROTOCOL_ERROR', `OPEN with invalid stream id ${id}`);
    this.lastPeerId = id;
    if (this.peerOpen >= this.limits.maxStreams) return this.refuse(id, 'STREAM_LIMIT', `at most ${this.limits.maxStreams} concurrent streams; retry when one finishes`);
    const s = new TunnelStream(this, id, target, metadata, false, (this.peer as Hello).streamWindow, this.limits.streamWindow, this.growth);
    this.streams.set(id, s);
    this.peerOpen++;
    if (!this.host.accept(s)) {
      this.forget(s);
      this.refuse(id, 'STREAM_REFUSED', `this peer accepts no streams (target ${target.slice(0, 64)})`);
    }
  }

  /** DATA in wire form (header + payload): decoded in place, no frame object (the hot path). */
  onDataBytes(b: Uint8Array): void {
    const id = (((b[2] as number) << 24) >>> 0) + (((b[3] as number) << 16) | ((b[4] as number) << 8) | (b[5] as number));
    const n = b.length - FRAME_HEADER_BYTES;
    const fin = ((b[1] as number) & FLAGS.FIN) !== 0;
    if (id === 0) throw new TunnelError('FRAME_MALFORMED', 'DATA needs a non-zero stream id');
    if (n > this.limits.maxDataPayload) throw new TunnelError('FRAME_TOO_LARGE', `DATA payload of ${n} bytes exceeds the announced ${this.limits.maxDataPayload}`);
    if (n === 0 && !fin) throw new TunnelError('FRAME_MALFORMED', 'empty DATA frame without FIN');
    this.onData(id, n === 0 ? EMPTY : b.subarray(FRAME_HEADER_BYTES), fin);
  }

  onData(id: number, payload: Uint8Array, fin: boolean): void {
    const s = this.lookup(id);
    if (s === undefined) return;
    if (s.remoteFin) throw new TunnelError('PROTOCOL_ERROR', `DATA on stream ${id} after FIN`);
    if (!s.recvWindow.receive(payload.length)) throw new TunnelError('FLOW_CONTROL_ERROR', `stream ${id}: peer sent beyond its credit`);
    s.deliver(payload, fin);
    if (fin && s.localFin) this.forget(s);
  }

  onWindow(id: number, increment: number): void {
    const s = this.lookup(id);
    if (s === undefined || s.localFin) return;
    if (!s.sendCredit.grant(increment)) throw new TunnelError('FLOW_CONTROL_ERROR', `stream ${id}: window above 2^31-1`);
    if (s.pending !== null || s.finalCallback !== null) this.scheduleWrite(s);
  }

  onReset(id: number, wire: number, retryable: boolean, message: string): void {
    const s = this.lookup(id);
    if (s === undefined) return;
    this.forget(s);
    s.destroy(new TunnelError(errorCodeFromWire(wire), message, { retryable, remote: true, wireCode: wire }));
  }

  // ---- outbound ----

  /** Round-robin over streams with something to send: one frame each per pass, so a stream with
   *  a lot to send cannot starve the others; stop while the transport is congested. */
  flush(): void {
    this.flushing = true;
    try {
      while (this.writable.size > 0 && this.host.isOpen() && !this.host.congested()) {
        for (const s of this.writable) {
          if (!this.sendOne(s)) this.writable.delete(s);
          if (!this.host.isOpen() || this.host.congested()) break;
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
      const n = Math.min(chunk.length - s.pendingOffset, s.sendCredit.credit, this.sendMax);
      if (n <= 0) return false;
      // One copy: the frame is header + payload in one WebSocket message. Frames of
      // POOLED_FRAME_MIN_BYTES or more are views into a full-size buffer from a small pool the
      // transport hands back once written (fewer large allocations, far less GC; a relay's socket
      // reads are rarely exactly one full frame); smaller ones come from Node's own Buffer pool.
      const size = FRAME_HEADER_BYTES + n;
      const pooled = size >= this.poolFrom ? this.pool.acquire() : undefined;
      const frame = pooled === undefined ? Buffer.allocUnsafe(size) : size === pooled.length ? pooled : pooled.subarray(0, size);
      writeDataHeader(frame, s.id, false);
      frame.set(n === chunk.length ? chunk : chunk.subarray(s.pendingOffset, s.pendingOffset + n), FRAME_HEADER_BYTES);
      s.sendCredit.spend(n);
      s.pendingOffset += n;
      if (pooled === undefined) this.host.sendFrame(frame);
      else this.host.sendFrame(frame, () => this.pool.release(pooled));
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
      this.host.sendFrame(frame);
      if (s.remoteFin) this.forget(s);
      fin();
    }
    return false;
  }

  private startLocal(s: TunnelStream): void {
    const peer = this.peer as Hello;
    if (this.localOpen >= peer.maxStreams) {
      this.abandon(s, new TunnelError('STREAM_LIMIT', `peer allows ${peer.maxStreams} concurrent streams; retry when one finishes`));
      return;
    }
    let frame: Buffer;
    try {
      frame = encodeFrame({ type: 'OPEN', streamId: s.id, target: s.target, metadata: { ...s.metadata } });
    } catch (err) {
      this.abandon(s, toTunnelError(err));
      return;
    }
    s.sendCredit.credit = peer.streamWindow;
    this.streams.set(s.id, s);
    this.localOpen++;
    this.host.sendFrame(frame);
    if (s.pending !== null || s.finalCallback !== null) this.scheduleWrite(s);
  }

  /** Fails a stream that never made it onto the wire. */
  private abandon(s: TunnelStream, err: TunnelError): TunnelStream {
    s.wireClosed = true;
    s.destroy(err);
    return s;
  }

  private refuse(id: number, code: ErrorCode, message: string): void {
    this.host.sendFrame(encodeFrame({ type: 'RESET', streamId: id, code: ERROR_CODES[code].wire, retryable: ERROR_CODES[code].retryable, message }));
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

  private forget(s: TunnelStream): void {
    if (s.wireClosed) return;
    s.wireClosed = true;
    s.recvWindow.release();
    this.writable.delete(s);
    if (this.streams.delete(s.id)) {
      if (s.local) this.localOpen--;
      else this.peerOpen--;
    }
  }
}
