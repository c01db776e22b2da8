// An in-memory transport pair for tests: frames are delivered in order on a microtask, never
// synchronously (a real socket never re-enters its sender). A side can be paused, which models a
// peer that stops reading: its inbound frames pile up and the sender's bufferedAmount grows.
import type { FrameTransport } from './transport.ts';

export interface FrameSink {
  handleFrame(frame: Uint8Array): void;
  handleTransportDrain(): void;
  handleTransportClose(code: number, reason: string): void;
}

export class MemoryTransport implements FrameTransport {
  /** Where our frames arrive (the other session). */
  peer: FrameSink | undefined;
  /** Our own session, told about drain and close. */
  self: FrameSink | undefined;
  other: MemoryTransport | undefined;
  /** Frames sent through this transport (for inspection), when `record` is set. */
  readonly sent: Uint8Array[] = [];
  record = false;
  /** While true, nothing is delivered to the peer (it "stops reading"). */
  paused = false;
  /** When true, frames are dropped silently: a dead network. */
  blackhole = false;
  closed: { code: number; reason: string } | undefined;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private scheduled = false;

  send(frame: Uint8Array): void {
    if (this.closed !== undefined || this.blackhole) return;
    if (this.record) this.sent.push(frame);
    this.queue.push(frame);
    this.queued += frame.length;
    this.schedule();
  }

  bufferedAmount(): number {
    return this.queued;
  }

  close(code: number, reason: string): void {
    if (this.closed !== undefined) return;
    this.closed = { code, reason };
    const other = this.other;
    queueMicrotask(() => {
      this.self?.handleTransportClose(code, reason);
      if (other !== undefined && other.closed === undefined) {
        other.closed = { code, reason };
        other.self?.handleTransportClose(code, reason);
      }
    });
  }

  abort(): void {
    this.close(1006, '');
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.paused) return;
    this.scheduled = true;
    queueMicrotask(() => this.deliver());
  }

  private deliver(): void {
    this.scheduled = false;
    let n = 0;
    while (!this.paused && this.queue.length > 0 && n++ < 64) {
      const f = this.queue.shift() as Uint8Array;
      this.queued -= f.length;
      this.peer?.handleFrame(f);
    }
    if (this.queue.length > 0) this.schedule();
    else this.self?.handleTransportDrain();
  }
}

/** Two connected transports: `a` is the client's, `b` the server's. Wire sessions with `link`. */
export function memoryTransportPair(): { a: MemoryTransport; b: MemoryTransport; link(client: FrameSink, server: FrameSink): void } {
  const a = new MemoryTransport();
  const b = new MemoryTransport();
  a.other = b;
  b.other = a;
  return {
    a, b,
    link(client: FrameSink, server: FrameSink) {
      a.self = client;
      a.peer = server;
      b.self = server;
      b.peer = client;
    },
  };
}
