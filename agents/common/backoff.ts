// Reconnect backoff policy: exponential with full jitter (AWS architecture blog, "Exponential
// Backoff and Jitter"), pure so it can be tested without sockets or clocks. The attempt counter
// resets only after a connection stayed up for `stableAfterMs`, so a link that drops seconds
// after every connect keeps backing off instead of reconnecting at the base rate forever.

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  stableAfterMs: number;
  maxExponent: number;
}

export interface BackoffState {
  /** Consecutive failed or short-lived connections since the last stable one. */
  attempt: number;
}

export const INITIAL_BACKOFF: BackoffState = Object.freeze({ attempt: 0 });

/** Upper bound of the wait before the next try: min(cap, base * 2^attempt). */
export function backoffCeiling(attempt: number, opts: BackoffOptions): number {
  const exp = Math.min(Math.max(0, attempt), opts.maxExponent);
  return Math.min(opts.capMs, opts.baseMs * 2 ** exp);
}

/**
 * Delay before the next connection attempt. `random` returns [0, 1). A server's Retry-After
 * (503 OVERLOADED) is a floor: we never come back earlier than asked, but still add jitter on top
 * so a thousand shed agents do not return in the same millisecond.
 */
export function backoffDelay(
  state: BackoffState,
  opts: BackoffOptions,
  random: () => number,
  retryAfterMs?: number,
): number {
  const jittered = Math.floor(random() * backoffCeiling(state.attempt, opts));
  if (retryAfterMs === undefined || retryAfterMs <= 0) return jittered;
  return retryAfterMs + Math.floor(random() * Math.min(opts.baseMs * 2, opts.capMs));
}

/**
 * State after a connection ended (or failed to open). `upForMs` is how long it stayed
 * connected, undefined when it never got connected at all.
 */
export function afterDisconnect(state: BackoffState, opts: BackoffOptions, upForMs: number | undefined): BackoffState {
  if (upForMs !== undefined && upForMs >= opts.stableAfterMs) return { attempt: 0 };
  return { attempt: Math.min(state.attempt + 1, opts.maxExponent) };
}
