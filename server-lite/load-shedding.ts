// Load shedding: counters of work in flight with a maximum. When full, the caller answers 503 with
// a jittered Retry-After instead of queueing without bound (issue 4: thousands of agents
// reconnecting after a server restart must slow down, not take the server down).
import { LIMITS } from './limits.ts';

export class InFlightLimiter {
  readonly #max: number;
  #inFlight = 0;
  #shed = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** A release function when admitted (call it exactly once), or undefined when full. */
  tryAcquire(): (() => void) | undefined {
    if (this.#inFlight >= this.#max) {
      this.#shed++;
      return undefined;
    }
    this.#inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight--;
    };
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get shed(): number {
    return this.#shed;
  }
}

/** Retry-After seconds drawn uniformly from the configured range; `unit` is a number in [0, 1). */
export function retryAfterSeconds(unit: number): number {
  const min = LIMITS.retryAfterMinSeconds;
  const max = LIMITS.retryAfterMaxSeconds;
  return min + Math.floor(unit * (max - min + 1));
}
