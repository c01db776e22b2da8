// Exponential backoff with equal jitter for retrying a failing source: the n-th consecutive failure
// waits between half and all of min(max, base * 2^(n-1)). Half is fixed so a retry is never
// immediate; half is random so many pollers of one flaky server spread out. `random` is injected.

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  // 2^30 already exceeds any sane cap; clamping the exponent keeps the arithmetic finite.
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failures - 1, 30));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling / 2 + (r * ceiling) / 2);
}
