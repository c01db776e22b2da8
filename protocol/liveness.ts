// Ping/pong and dead-peer detection for one session (SPEC.md §8): a PING once the peer has been
// quiet (no frame received) for an interval, unless one is outstanding; a PING unanswered within
// the timeout declares the peer dead. A peer that talks anyway (agents heartbeat) is never pinged,
// which halves an idle tunnel's frames. Runs on the injected clock; the session supplies how to
// send a PING and what to do when the peer is dead, and tells us when a frame arrived.
import { Buffer } from 'node:buffer';
import type { Clock, TimerHandle } from './clock.ts';
import { PING_PAYLOAD_BYTES } from './frame.ts';

export interface LivenessHost {
  /** Send a PING frame with this 8-byte payload. */
  sendPing(payload: Buffer): void;
  /** No PONG within the timeout: close the session. */
  peerDead(timeoutMs: number): void;
}

export class Liveness {
  /** Last measured round trip in clock ms; undefined before the first PONG. */
  rtt: number | undefined;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly host: LivenessHost;
  private intervalTimer: TimerHandle | undefined;
  private timeoutTimer: TimerHandle | undefined;
  private sentAt = 0;
  /** Clock time of the last frame received (the session calls heard()). */
  private lastHeard: number;
  private seq = 0;
  private stopped = false;
  private readonly waiters: Array<{ resolve: (rtt: number) => void; reject: (err: Error) => void }> = [];

  constructor(clock: Clock, intervalMs: number, timeoutMs: number, host: LivenessHost) {
    this.clock = clock;
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs;
    this.host = host;
    this.lastHeard = clock.now();
  }

  /** A frame arrived from the peer: it is alive, no PING needed for another interval. */
  heard(): void {
    this.lastHeard = this.clock.now();
  }

  /** Starts the interval (after the handshake). */
  start(): void {
    if (this.stopped) return;
    this.lastHeard = this.clock.now();
    this.arm(this.intervalMs);
  }

  private arm(ms: number): void {
    this.intervalTimer = this.clock.setTimeout(() => {
      this.intervalTimer = undefined;
      if (this.stopped) return;
      const quiet = this.clock.now() - this.lastHeard;
      if (quiet < this.intervalMs) {
        this.arm(this.intervalMs - quiet);
        return;
      }
      if (this.timeoutTimer === undefined) this.sendPing();
      this.arm(this.intervalMs);
    }, ms);
  }

  /** PINGs now (unless one is outstanding) and resolves with the round trip. */
  ping(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (this.timeoutTimer === undefined) this.sendPing();
    });
  }

  /** A PONG arrived; only the answer to the outstanding PING counts. */
  onPong(payload: Uint8Array): void {
    if (this.timeoutTimer === undefined || payload.length !== PING_PAYLOAD_BYTES) return;
    const seq = (payload[4] as number) * 0x1000000 + (((payload[5] as number) << 16) | ((payload[6] as number) << 8) | (payload[7] as number));
    if (seq !== this.seq) return;
    this.clock.clearTimeout(this.timeoutTimer);
    this.timeoutTimer = undefined;
    this.rtt = this.clock.now() - this.sentAt;
    for (const w of this.waiters.splice(0)) w.resolve(this.rtt);
  }

  /** Stops all timers for good and rejects pending ping() calls with `err`. */
  stop(err: Error): void {
    this.stopped = true;
    if (this.intervalTimer !== undefined) this.clock.clearTimeout(this.intervalTimer);
    if (this.timeoutTimer !== undefined) this.clock.clearTimeout(this.timeoutTimer);
    this.intervalTimer = undefined;
    this.timeoutTimer = undefined;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private sendPing(): void {
    if (this.stopped) return;
    const payload = Buffer.alloc(PING_PAYLOAD_BYTES);
    this.seq = (this.seq + 1) >>> 0;
    payload.writeUInt32BE(this.seq, 4);
    this.sentAt = this.clock.now();
    this.timeoutTimer = this.clock.setTimeout(() => {
      this.timeoutTimer = undefined;
      this.host.peerDead(this.timeoutMs);
    }, this.timeoutMs);
    this.host.sendPing(payload);
  }
}
