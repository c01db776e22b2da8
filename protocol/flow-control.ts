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

/** A session's shared terms for growing stream windows (window auto-tuning): one object per
 *  session, mutable, read by every stream's ReceiveWindow. */
export interface WindowGrowth {
  /** Largest window one stream may grow to. */
  max: number;
  /** Bytes of growth (beyond the initial windows) still allowed across the whole session, so the
   *  memory a session can be made to hold stays bounded: initial windows plus this. */
  left: number;
  /** Half a window consumed within this many ms of the previous credit return means the window,
   *  not the reader, limits the stream: it doubles. */
  fastMs: number;
  /** The session's clock, ms. */
  now(): number;
}

/** What the receiving side has granted, received and consumed. */
export class ReceiveWindow {
  /** Bytes the peer may still send before it must wait for a WINDOW. */
  available: number;
  /** Current window (the initial one, or larger once auto-tuned). */
  window: number;
  /** Bytes consumed by the application and not yet returned to the peer. */
  private unreturned = 0;
  private threshold: number;
  private readonly growth: WindowGrowth | undefined;
  private lastReturn: number;
  private grown = 0;

  /** `growth`: let the window grow while the application reads faster than the credit comes
   *  back (a receiver may grant more credit at any time, SPEC.md §6.3); without it the window
   *  stays fixed. */
  constructor(window: number, growth?: WindowGrowth) {
    this.available = window;
    this.window = window;
    this.threshold = Math.max(1, Math.floor(window / WINDOW_UPDATE_DIVISOR));
    this.growth = growth;
    this.lastReturn = growth === undefined ? 0 : growth.now();
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
    let inc = this.unreturned;
    this.unreturned = 0;
    if (this.growth !== undefined) {
      const now = this.growth.now();
      if (now - this.lastReturn < this.growth.fastMs) inc += this.grow(this.growth);
      this.lastReturn = now;
    }
    this.available += inc;
    return inc;
  }

  /** Gives the growth back to the session (the stream ended). */
  release(): void {
    if (this.growth !== undefined) this.growth.left += this.grown;
    this.grown = 0;
  }

  private grow(g: WindowGrowth): number {
    const extra = Math.min(this.window, g.max - this.window, g.left);
    if (extra <= 0) return 0;
    g.left -= extra;
    this.grown += extra;
    this.window += extra;
    this.threshold = Math.max(1, Math.floor(this.window / WINDOW_UPDATE_DIVISOR));
    return extra;
  }
}
