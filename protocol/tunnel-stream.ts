// A stream inside a session, as a Node Duplex (SPEC.md §6). Writes become DATA frames when the
// session has credit and transport room; received DATA waits in a bounded queue (≤ the window we
// granted) and moves into the Readable only when the application asks for more (`_read`), which
// is also when credit goes back to the peer. So a slow reader stalls its writer, nobody else.
import { Duplex } from 'node:stream';
import { TunnelError } from './errors.ts';
import { ReceiveWindow, SendCredit, type WindowGrowth } from './flow-control.ts';
import { ReceiveQueue } from './receive-queue.ts';

/** The session side of a stream; implemented by Session, not part of the public API. */
export interface StreamOwner {
  /** The stream has data or a FIN to send. */
  scheduleWrite(s: TunnelStream): void;
  /** Return `increment` bytes of credit to the peer. */
  sendWindow(s: TunnelStream, increment: number): void;
  /** The stream was destroyed locally; reset it on the wire unless it already closed. */
  streamDestroyed(s: TunnelStream, err: Error | null): void;
}

export interface TunnelStreamStats {
  id: number;
  /** Received bytes queued in the stream, not yet in the Readable buffer. */
  queuedIn: number;
  /** Chunks those bytes are held in (tiny frames are merged). */
  queuedChunks: number;
  /** Bytes in the Readable buffer. */
  readableLength: number;
  /** Bytes written by the application and not yet framed. */
  pendingOut: number;
  /** Bytes we may still send before the peer returns credit. */
  sendCredit: number;
  /** Bytes the peer may still send to us. */
  receiveCredit: number;
}

export class TunnelStream extends Duplex {
  /** Stream id: odd when the WebSocket client opened it, even for the server. */
  readonly id: number;
  /** What the opener asked to reach, e.g. `http:kube-apiserver` (SPEC.md §6.1). */
  readonly target: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** True when this side opened the stream. */
  readonly local: boolean;

  /** @internal */ readonly owner: StreamOwner;
  /** @internal */ readonly sendCredit: SendCredit;
  /** @internal */ readonly recvWindow: ReceiveWindow;
  /** @internal write in progress */ pending: Uint8Array | null = null;
  /** @internal */ pendingOffset = 0;
  /** @internal */ pendingCallback: ((err?: Error | null) => void) | null = null;
  /** @internal _final waiting for the FIN to go out */ finalCallback: ((err?: Error | null) => void) | null = null;
  /** @internal */ localFin = false;
  /** @internal */ remoteFin = false;
  /** @internal no more frames may be sent or are expected */ wireClosed = false;

  private readonly queue = new ReceiveQueue();
  private wantsData = false;
  private endPending = false;

  /** @internal created by Session */
  constructor(owner: StreamOwner, id: number, target: string, metadata: Record<string, string>, local: boolean, sendWindow: number, recvWindow: number, growth?: WindowGrowth) {
    super({ allowHalfOpen: true });
    this.owner = owner;
    this.id = id;
    this.target = target;
    this.metadata = Object.freeze({ ...metadata });
    this.local = local;
    this.sendCredit = new SendCredit(sendWindow);
    this.recvWindow = new ReceiveWindow(recvWindow, growth);
  }

  /** Aborts the stream on both ends: the peer gets a RESET with this code, message and the code's
   *  retryability; locally the stream is destroyed without an 'error' event (it was our choice).
   *  `destroy(err)` does the same but also emits `err` here. */
  reset(code: TunnelError['code'] = 'STREAM_CANCELLED', message = 'stream reset by the peer application'): void {
    this.resetError = new TunnelError(code, message);
    this.destroy();
  }

  private resetError: TunnelError | null = null;

  stats(): TunnelStreamStats {
    return {
      id: this.id,
      queuedIn: this.queue.bytes,
      queuedChunks: this.queue.count,
      readableLength: this.readableLength,
      pendingOut: this.pending === null ? 0 : this.pending.length - this.pendingOffset,
      sendCredit: this.sendCredit.credit,
      receiveCredit: this.recvWindow.available,
    };
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.wireClosed) {
      cb(new TunnelError('SESSION_CLOSED', 'stream is closed'));
      return;
    }
    this.pending = chunk;
    this.pendingOffset = 0;
    this.pendingCallback = cb;
    this.owner.scheduleWrite(this);
  }

  /** Corked or queued small writes (Node's HTTP writes head and body this way) go out as one
   *  DATA frame instead of one frame each. */
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this._write(chunks.length === 1 ? (chunks[0] as { chunk: Buffer }).chunk : Buffer.concat(chunks.map((c) => c.chunk)), 'binary', cb);
  }

  /** Node's HTTP server ends its socket again when the peer's FIN arrives after the response has
   *  already ended the stream; Writable.end then builds an ERR_STREAM_ALREADY_FINISHED (a stack
   *  capture) only to drop it — 7.6% of the CPU of an HTTP exchange over a stream (issue 12). A
   *  bare end() of a stream already ended or destroyed does nothing either way, so skip it. */
  override end(...args: unknown[]): this {
    if (args.length === 0 && (this.writableEnded || this.destroyed)) return this;
    return (Duplex.prototype.end as (...a: unknown[]) => this).apply(this, args);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.wireClosed) {
      cb();
      return;
    }
    this.finalCallback = cb;
    this.owner.scheduleWrite(this);
  }

  override _read(): void {
    this.wantsData = true;
    for (let chunk = this.queue.shift(); chunk !== undefined; chunk = this.queue.shift()) {
      this.consumed(chunk.length);
      if (!this.push(chunk)) {
        this.wantsData = false;
        break;
      }
    }
    if (this.queue.count === 0 && this.endPending) {
      this.endPending = false;
      this.push(null);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.queue.clear();
    const pendingCb = this.pendingCallback;
    this.pending = null;
    this.pendingCallback = null;
    this.finalCallback = null;
    this.owner.streamDestroyed(this, err ?? this.resetError);
    if (pendingCb !== null) pendingCb(err ?? new TunnelError('STREAM_CANCELLED', 'stream destroyed'));
    cb(err);
  }

  /** @internal DATA arrived (credit already checked by the session). */
  deliver(payload: Uint8Array, fin: boolean): void {
    if (payload.length > 0) {
      const chunk = this.queue.adopt(payload);
      if (this.wantsData && this.queue.count === 0) {
        this.consumed(chunk.length);
        this.wantsData = this.push(chunk);
      } else {
        this.queue.push(chunk);
      }
    }
    if (fin) {
      this.remoteFin = true;
      if (this.queue.count === 0) this.push(null);
      else this.endPending = true;
    }
  }

  private consumed(n: number): void {
    const inc = this.recvWindow.consume(n);
    // No point returning credit to a peer that has finished sending.
    if (inc > 0 && !this.remoteFin && !this.wireClosed) this.owner.sendWindow(this, inc);
  }
}

