// Per-stream credit accounting (SPEC.md §6), pure. The receiver grants a window; the sender
// spends credit per DATA byte and stops at zero; the receiver returns credit with WINDOW frames
// as the application consumes bytes, batched so that one WINDOW covers 1/WINDOW_UPDATE_DIVISOR
// of the window. Memory per stream is thus bounded by the window plus the Readable's buffer.
import { MAX_STREAM_WINDOW, WINDOW_UPDATE_DIVISOR } from './limits.ts';

/** What the sending side of a stream may still send. */
export class SendCredit {
  credit: number;

  constructor(initial: number) {
    this.credit = initial;
  }

  /** Spends `n` bytes; callers never spend more than `credit`. */
  spend(n: number): void {
    this.credit -= n;
  }

  /** Adds a WINDOW increment; false when the total would pass 2^31−1 (a flow-control error). */
  grant(increment: number): boolean {
    if (this.credit + increment > MAX_STREAM_WINDOW) return false;
    this.credit += increment;
    return true;
  }
}

/** What the receiving side has granted, received and consumed. */
export class ReceiveWindow {
  /** Bytes the peer may still send before it must wait for a WINDOW. */
  available: number;
  /** Bytes consumed by the application and not yet returned to the peer. */
  private unreturned = 0;
  private readonly threshold: number;

  constructor(window: number) {
    this.available = window;
    this.threshold = Math.max(1, Math.floor(window / WINDOW_UPDATE_DIVISOR));
  }

  /** Records `n` received bytes; false when they exceed the credit (a flow-control error). */
  receive(n: number): boolean {
    if (n > this.available) return false;
    this.available -= n;
    return true;
  }

  /** Records `n` consumed bytes; returns the WINDOW increment to send now, or 0 to keep batching. */
  consume(n: number): number {
    this.unreturned += n;
    if (this.unreturned < this.threshold) return 0;
    const inc = this.unreturned;
    this.unreturned = 0;
    this.available += inc;
    return inc;
  }
}
