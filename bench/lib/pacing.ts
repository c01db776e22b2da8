// Open-loop pacing: request i is due at i / rate seconds after the start, whatever happened to
// earlier requests, so a slow response never lowers the offered rate (no coordinated omission).
// The schedule is pure; `runOpenLoop` is the thin timer shell around it.

/** Milliseconds after the start at which request `index` is due. */
export function scheduledAtMs(index: number, ratePerSecond: number): number {
  return (index * 1000) / ratePerSecond;
}

/** How many requests in total are due `elapsedMs` after the start, capped at `total`. */
export function dueCount(elapsedMs: number, ratePerSecond: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * ratePerSecond) / 1000) + 1);
}

/** Requests in a run of `durationMs` at `ratePerSecond`. */
export function totalRequests(durationMs: number, ratePerSecond: number): number {
  return Math.round((durationMs * ratePerSecond) / 1000);
}

export interface OpenLoopOptions {
  readonly ratePerSecond: number;
  readonly durationMs: number;
  /** Monotonic milliseconds (performance.now in the bench, a fake in tests). */
  readonly now: () => number;
  /** Starts request `index`; `lagMs` is how late it starts against its schedule. */
  readonly fire: (index: number, lagMs: number) => void;
  /** Waits a little and resumes; a 0 ms timer in the bench (Node's timers tick at ~1 ms). */
  readonly tick: (resume: () => void) => void;
}

/** Fires every due request on each tick until all are fired; resolves with the count fired. */
export function runOpenLoop(opts: OpenLoopOptions): Promise<number> {
  const total = totalRequests(opts.durationMs, opts.ratePerSecond);
  const start = opts.now();
  let sent = 0;
  return new Promise((resolve) => {
    const step = (): void => {
      const elapsed = opts.now() - start;
      const due = dueCount(elapsed, opts.ratePerSecond, total);
      for (; sent < due; sent++) {
        opts.fire(sent, elapsed - scheduledAtMs(sent, opts.ratePerSecond));
      }
      if (sent >= total) resolve(sent);
      else opts.tick(step);
    };
    step();
  });
}
