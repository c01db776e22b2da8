// Where a stream keeps received bytes the application has not read yet, with memory proportional
// to the bytes, not to the number of frames. DATA payloads are views into WebSocket messages,
// which may themselves be views into larger socket reads; a peer sending many tiny frames could
// otherwise pin far more memory than its window. So payloads below COPY_BELOW_BYTES are copied
// into a per-stream tail buffer (densely packed), and contiguous copies merge into one chunk.
// The tail starts small and doubles up to RECEIVE_TAIL_BYTES: most streams (one HTTP exchange)
// receive a few hundred bytes, and a fixed 16 KiB ArrayBuffer per stream was the allocation that
// drove the major GCs behind the p99 tail (issue 3). Each tail is its own exactly-sized buffer
// (not a slice of Node's shared pool), so what a stream pins is what it allocated.
import { Buffer } from 'node:buffer';
import { COPY_BELOW_BYTES, RECEIVE_TAIL_BYTES, RECEIVE_TAIL_FIRST_BYTES } from './limits.ts';

const EMPTY = Buffer.alloc(0);

export class ReceiveQueue {
  /** Bytes queued. */
  bytes = 0;
  private readonly chunks: Uint8Array[] = [];
  private head = 0;
  private tail: Buffer = EMPTY;
  private tailUsed = 0;

  /** Size of the current tail buffer (0 before the first small payload). */
  get tailCapacity(): number {
    return this.tail.length;
  }

  /** Number of chunks queued (what a flood of tiny frames would inflate). */
  get count(): number {
    return this.chunks.length - this.head;
  }

  /** A payload safe to keep: small ones are copied into the tail buffer, big ones kept as is. */
  adopt(payload: Uint8Array): Uint8Array {
    if (payload.length >= COPY_BELOW_BYTES) return payload;
    if (this.tailUsed + payload.length > this.tail.length) {
      const grown = this.tail.length === 0 ? RECEIVE_TAIL_FIRST_BYTES : this.tail.length * 2;
      this.tail = Buffer.allocUnsafeSlow(Math.min(RECEIVE_TAIL_BYTES, Math.max(grown, payload.length)));
      this.tailUsed = 0;
    }
    const view = this.tail.subarray(this.tailUsed, this.tailUsed + payload.length);
    view.set(payload);
    this.tailUsed += payload.length;
    return view;
  }

  /** Queues an adopted chunk, merging it with the previous one when they are contiguous. */
  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    const last = this.chunks.length > this.head ? this.chunks[this.chunks.length - 1] : undefined;
    if (last !== undefined && last.buffer === chunk.buffer && last.byteOffset + last.length === chunk.byteOffset) {
      this.chunks[this.chunks.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + chunk.length);
      return;
    }
    this.chunks.push(chunk);
  }

  shift(): Uint8Array | undefined {
    if (this.head === this.chunks.length) return undefined;
    const c = this.chunks[this.head] as Uint8Array;
    this.chunks[this.head++] = EMPTY;
    this.bytes -= c.length;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      // A reader that never quite catches up would otherwise grow the array forever.
      this.chunks.splice(0, this.head);
      this.head = 0;
    }
    return c;
  }

  clear(): void {
    this.chunks.length = 0;
    this.head = 0;
    this.bytes = 0;
    this.tail = EMPTY;
    this.tailUsed = 0;
  }
}
