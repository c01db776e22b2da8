// Every timing of the HA replicas (issue 17), named in one place with the reason for its value.
// Tests shorten them through HaTimings; the CLI reads DROVER_HA_HEARTBEAT_MS for the e2e tests.

export interface HaTimings {
  /** One heartbeat write per replica per interval (not per tunnel), plus the takeover check. */
  heartbeatMs: number;
  /** A replica whose heartbeat is older than this is dead: its tunnels route nowhere, its rows expire. */
  staleAfterMs: number;
  /** Tunnel connects and closes are written in one transaction per window (a reconnect storm of 10k). */
  flushMs: number;
  /** A lease lasts this long unless renewed; renewed every heartbeat, so a dead holder's moves within it. */
  leaseTtlMs: number;
  /**
   * /readyz fails once the last successful heartbeat is older than this: two beats, so the load
   * balancer takes the replica out before the others count it dead (staleAfterMs, three beats).
   */
  unreadyAfterMs: number;
  /** The LISTEN connection for hints (hints.ts) is opened again after this, doubling up to 30 s. */
  hintReconnectMs: number;
  /** A forwarded stream's connection to the owning replica must be set up within this. */
  peerConnectTimeoutMs: number;
}

export const HA_TIMINGS: HaTimings = Object.freeze({
  heartbeatMs: 2_000,
  // Three missed heartbeats: a replica paused by GC or a slow disk for one beat keeps its tunnels.
  staleAfterMs: 6_000,
  flushMs: 50,
  leaseTtlMs: 6_000,
  unreadyAfterMs: 4_000,
  hintReconnectMs: 500,
  peerConnectTimeoutMs: 5_000,
});

/** Largest header line on a peer link (JSON: agent, role, target, stream metadata). */
export const MAX_PEER_HEADER_BYTES = 64 * 1024;

/**
 * HA_TIMINGS with the heartbeat (and what follows from it) from the environment, for tests; and
 * DROVER_HA_HINT_RECONNECT_MS, so a test can keep a dropped hint listener away and see polling alone.
 */
export function haTimings(env: NodeJS.ProcessEnv): HaTimings {
  const hb = Number(env.DROVER_HA_HEARTBEAT_MS);
  const reconnect = Number(env.DROVER_HA_HINT_RECONNECT_MS);
  const base = reconnect > 0 ? { ...HA_TIMINGS, hintReconnectMs: reconnect } : HA_TIMINGS;
  if (!(hb > 0)) return Object.freeze({ ...base });
  return Object.freeze({ ...base, heartbeatMs: hb, staleAfterMs: 3 * hb, leaseTtlMs: 3 * hb, unreadyAfterMs: 2 * hb });
}
