// Binds a session to a `ws` WebSocket without importing 'ws': the socket is described
// structurally (WebSocketLike), so protocol/ stays free of I/O dependencies. One binary message is
// one frame; text messages are a protocol error. Create the socket with
// `maxPayload: MAX_WS_MESSAGE` and `perMessageDeflate: false` (SPEC.md §2).
import { Buffer } from 'node:buffer';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import { Session, type SessionCloseInfo, type SessionOptions } from './session.ts';
import { TunnelError } from './errors.ts';
import { TRANSPORT_HIGH_WATER } from './limits.ts';
import type { FrameTransport } from './transport.ts';

/** The subset of a `ws` WebSocket (client or server side) that the binding uses. */
export interface WebSocketLike {
  /** Subprotocol chosen at the upgrade (`drover.v1`), '' if none. */
  readonly protocol: string;
  readonly bufferedAmount: number;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  binaryType: string;
  send(data: Uint8Array, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  /** ws ≥ 8.? — a socket paused in its 'open' listener is resumed by attachWebSocket. */
  readonly isPaused?: boolean;
  resume?(): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  once(event: 'open', listener: () => void): unknown;
  once(event: 'error', listener: (err: Error) => void): unknown;
  once(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
  removeListener(event: 'open' | 'error' | 'close', listener: (...args: never[]) => void): unknown;
  /** `ws`'s underlying socket (its `_socket`, set once open): corked while a turn of the event
   *  loop sends frames, see WebSocketTransport. Absent in fakes: frames are then written one by one. */
  readonly _socket?: { cork(): void; uncork(): void } | null;
  /** `ws` internals for masking our own frames in place (client side only); absent in fakes. */
  readonly _isServer?: boolean;
  readonly _sender?: unknown;
}

/** What of `ws`'s Sender (8.x) the in-place masking uses. */
interface WsSender {
  _state: number;
  _queue: unknown[];
  _maskBuffer?: Buffer;
  _generateMask?: (mask: Buffer) => void;
  sendFrame(list: Buffer[], cb?: (err?: Error) => void): void;
  constructor: { frame?: (data: Buffer, options: Record<string, unknown>) => Buffer[] };
}

/**
 * Sends a binary frame from a client socket with `ws` masking it **in place** (decision 1201).
 * `ws.send` treats every Buffer as read-only and masks it into a fresh copy (an allocation and a
 * copy per 64 KiB DATA frame: the agent→server direction's extra cost over raw `ws`); a pooled
 * DATA frame is ours until its release callback, so masking it where it lies is safe. The mask is
 * still `ws`'s own random key per frame (RFC 6455 §5.3). Returns false, sending nothing, when the
 * socket is not a `ws` 8 client in its plain state (server side, a fake, a queued sender).
 */
function sendMaskedInPlace(ws: WebSocketLike, frame: Uint8Array, cb: (err?: Error) => void): boolean {
  if (ws._isServer !== false) return false;
  const sender = ws._sender as WsSender | undefined;
  const frameOf = sender?.constructor?.frame;
  if (sender === undefined || typeof frameOf !== 'function' || typeof sender.sendFrame !== 'function') return false;
  if (sender._state !== 0 || !Array.isArray(sender._queue) || sender._queue.length > 0) return false;
  const data = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const list = frameOf(data, { fin: true, rsv1: false, opcode: 2, mask: true, maskBuffer: sender._maskBuffer, generateMask: sender._generateMask, readOnly: false });
  sender.sendFrame(list, cb);
  return true;
}

export interface WebSocketSessionOptions extends Omit<SessionOptions, 'transport' | 'subprotocol' | 'clock'> {
  clock?: Clock;
}

/** A FrameTransport over a WebSocketLike; calls `onFlushed` when a send made while congested has
 *  reached the socket, so the session can resume. */
export class WebSocketTransport implements FrameTransport {
  private readonly ws: WebSocketLike;
  private readonly highWater: number;
  onFlushed: () => void = () => {};
  private readonly flushed = (err?: Error) => {
    if (err === undefined || err === null) this.onFlushed();
  };

  constructor(ws: WebSocketLike, highWater: number) {
    this.ws = ws;
    this.highWater = highWater;
  }

  private corked: { cork(): void; uncork(): void } | undefined;
  private readonly uncork = (): void => {
    const socket = this.corked;
    this.corked = undefined;
    socket?.uncork();
  };

  send(frame: Uint8Array, release?: () => void): void {
    if (this.ws.readyState !== 1) {
      release?.();
      return;
    }
    // Frames sent during one turn of the event loop leave in one socket write (one TLS record
    // run, one syscall) when the turn's I/O callbacks are done: a watch event fanned out to 100
    // streams, or a response's head, body and FIN, was one write each (issue 12). setImmediate,
    // not a microtask: the frames of one turn come from many I/O callbacks (one per upstream
    // socket), with microtasks run between them.
    if (this.corked === undefined) {
      const socket = this.ws._socket;
      if (socket !== undefined && socket !== null) {
        socket.cork();
        this.corked = socket;
        setImmediate(this.uncork);
      }
    }
    // Every send made past half the high-water mark carries a callback; the last of them fires
    // once the socket has taken everything, which is when the session may send DATA again. Half,
    // not the mark itself, so that bytes we do not see (ws frame headers, automatic pongs) can
    // never leave the session paused with no callback pending.
    const congested = this.ws.bufferedAmount + frame.length >= this.highWater / 2;
    if (release === undefined) {
      if (congested) this.ws.send(frame, this.flushed);
      else this.ws.send(frame);
      return;
    }
    // ws calls back once the socket has written the frame: from then on it holds no reference.
    const done = (err?: Error) => {
      release();
      if (congested) this.flushed(err);
    };
    if (!sendMaskedInPlace(this.ws, frame, done)) this.ws.send(frame, done);
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState <= 1) this.ws.close(code, reason);
  }

  abort(): void {
    this.ws.terminate();
  }
}

/**
 * Dials: waits for `ws` to open, attaches the session in the same tick as 'open' (so the peer's
 * HELLO cannot be missed) and resolves once both HELLOs are exchanged. Rejects with the socket's
 * error (for example on a 400 refusal when nobody listens to 'unexpected-response') or with the
 * TunnelError the session closed with.
 */
export function openTunnel(ws: WebSocketLike, opts: WebSocketSessionOptions): Promise<Session> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    const onClose = (code: number, reason: Buffer) => reject(new TunnelError('TRANSPORT_CLOSED', `WebSocket closed before opening (${code} ${reason.toString('utf8')})`));
    ws.once('error', onError);
    ws.once('close', onClose);
    ws.once('open', () => {
      ws.removeListener('error', onError);
      ws.removeListener('close', onClose);
      const session = attachWebSocket(ws, opts);
      const onReady = () => {
        session.removeListener('close', onFail);
        resolve(session);
      };
      const onFail = (info: SessionCloseInfo) => {
        session.removeListener('ready', onReady);
        reject(new TunnelError(info.code, info.message, { retryable: info.retryable, remote: info.remote }));
      };
      session.once('ready', onReady);
      session.once('close', onFail);
    });
  });
}

/**
 * Runs a session over an open WebSocket. Call it synchronously inside the 'open' listener (or in
 * the server's upgrade callback): messages that arrive before it is attached are lost, and the
 * session then fails its handshake. Dialling code should use `openTunnel`, or call `ws.pause()`
 * in its 'open' listener and attach later: this function resumes a paused socket. `side` is
 * 'client' for the agent that dialled, 'server' for the endpoint that accepted. The session
 * closes when the socket does.
 */
export function attachWebSocket(ws: WebSocketLike, opts: WebSocketSessionOptions): Session {
  ws.binaryType = 'nodebuffer';
  const limits = opts.limits ?? {};
  const transport = new WebSocketTransport(ws, limits.transportHighWater ?? TRANSPORT_HIGH_WATER);
  const session = new Session({ ...opts, clock: opts.clock ?? systemClock, transport, subprotocol: ws.protocol });
  transport.onFlushed = () => {
    if (transport.bufferedAmount() < session.limits.transportHighWater) session.handleTransportDrain();
  };
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      session.close('PROTOCOL_ERROR', 'text WebSocket message; the tunnel uses binary messages only');
      return;
    }
    if (Buffer.isBuffer(data)) session.handleFrame(data);
    else if (Array.isArray(data)) session.handleFrame(Buffer.concat(data));
    else session.handleFrame(new Uint8Array(data));
  });
  ws.on('close', (code, reason) => session.handleTransportClose(code, reason.toString('utf8')));
  // 'error' is always followed by 'close' in ws; listening keeps it from being thrown.
  ws.on('error', () => {});
  // Callers that cannot attach inside the 'open' listener pause the socket there; resume now
  // that nothing can be missed.
  if (ws.isPaused === true) ws.resume?.();
  return session;
}
