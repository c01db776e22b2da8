// A small pool of full-size DATA frame buffers. Allocating a fresh 64 KiB buffer per frame makes
// V8 run full GCs for the external memory alone; transports that can tell when a frame has been
// written hand it back (FrameTransport.send's `release`) and it is reused. Bounded: at most
// FRAME_POOL_SIZE buffers are kept; anything beyond is left to the GC.
import { Buffer } from 'node:buffer';
import { FRAME_POOL_SIZE } from './limits.ts';

export class FramePool {
  private readonly size: number;
  private readonly free: Buffer[] = [];

  constructor(frameSize: number) {
    this.size = frameSize;
  }

  acquire(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(this.size);
  }

  /** Returns a buffer the transport no longer references. */
  release(b: Buffer): void {
    if (b.length === this.size && this.free.length < FRAME_POOL_SIZE) this.free.push(b);
  }

  /** Buffers waiting for reuse. */
  get available(): number {
    return this.free.length;
  }
}
