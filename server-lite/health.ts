// Connection state of clusters and nodes, computed from lastSeen, live sessions and a clock.
// Pure so it is testable with any clock: a cluster is never shown Connected once its heartbeats
// stop, even if the TCP connection still looks open (issue 4).
import { LIMITS } from './limits.ts';

export const STATES = ['Connected', 'Stale', 'Offline'] as const;
export type HealthState = (typeof STATES)[number];

export interface HealthInput {
  now: number;
  /** Last traffic from any agent of the cluster/node; null when never seen. */
  lastSeen: number | null;
  /** Whether a tunnel session is open right now. */
  hasSession: boolean;
}

export interface HealthPolicy {
  heartbeatIntervalMs: number;
  staleAfterIntervals: number;
  offlineAfterMs: number;
}

export const DEFAULT_HEALTH_POLICY: HealthPolicy = Object.freeze({
  heartbeatIntervalMs: LIMITS.heartbeatIntervalMs,
  staleAfterIntervals: LIMITS.staleAfterIntervals,
  offlineAfterMs: LIMITS.offlineAfterMs,
});

/**
 * Connected: a session is open and traffic arrived within `staleAfterIntervals` heartbeats.
 * Stale: otherwise, while the last traffic is younger than `offlineAfterMs` (e.g. just after a
 * server restart, or a half-open connection). Offline: older than that, or never seen.
 */
export function healthState(input: HealthInput, policy: HealthPolicy = DEFAULT_HEALTH_POLICY): HealthState {
  if (input.lastSeen === null) return 'Offline';
  const age = input.now - input.lastSeen;
  if (input.hasSession && age <= policy.heartbeatIntervalMs * policy.staleAfterIntervals) return 'Connected';
  if (age <= policy.offlineAfterMs) return 'Stale';
  return 'Offline';
}

/** Latest of several lastSeen values (a cluster's agents). */
export function latest(values: ReadonlyArray<number | null>): number | null {
  let out: number | null = null;
  for (const v of values) if (v !== null && (out === null || v > out)) out = v;
  return out;
}
