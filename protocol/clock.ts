// The clock a session runs on. The session core never calls Date.now() or setTimeout itself:
// tests pass a manual clock and step time; production passes `systemClock`.

/** Opaque timer handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds on a monotonic-enough scale; only differences are used. */
  now(): number;
  /** Calls `fn` once after `ms`. Timers must not keep the process alive on their own. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Real time: the monotonic clock and unref'd Node timers. process.hrtime rather than
 * performance.now(): the `performance` global loads perf_hooks (~130 KiB of an idle agent's heap,
 * issue 25), and only differences are used.
 */
export const systemClock: Clock = Object.freeze({
  now: () => {
    const [s, ns] = process.hrtime();
    return s * 1e3 + ns / 1e6;
  },
  setTimeout: (fn: () => void, ms: number): TimerHandle => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle: TimerHandle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

/**
 * The same timers with epoch milliseconds (Date.now) as `now`: for shells that also store or show
 * times (the server's store, statuses, acknowledgements). Differences work as with systemClock,
 * apart from wall-clock steps; ManualClock stands in for either in tests.
 */
export const wallClock: Clock = Object.freeze({ ...systemClock, now: () => Date.now() });
