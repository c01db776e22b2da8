// Every limit and timeout of the agent side, named in one place (STYLE: limits live together).
// Values are defaults; the ones marked "configurable" can be overridden through config.ts.

export const LIMITS = Object.freeze({
  /** First reconnect delay ceiling; the n-th failure waits up to base * 2^n (full jitter). */
  backoffBaseMs: 500,
  /** Default ceiling of one reconnect wait (configurable: --backoff-cap / DROVER_BACKOFF_CAP). */
  backoffCapMs: 60_000,
  /**
   * A connection must stay up this long before the backoff resets to the first step, so a
   * link that flaps every few seconds keeps backing off instead of hammering the server.
   */
  backoffStableAfterMs: 30_000,
  /** Exponent ceiling, so base * 2^attempt never overflows to Infinity. */
  backoffMaxExponent: 30,

  // Keepalive inside the tunnel is the protocol's PING (protocol/limits.ts PING_INTERVAL_MS, 15 s,
  // dead peer after PING_TIMEOUT_MS): well below the 60 s idle timeout of typical load balancers
  // (AWS ALB, nginx) and NAT tables, so the path never looks idle.
  /** Heartbeat message interval of older agents (15 s). Agents no longer heartbeat on a period:
   *  their idle PING (below) is the traffic the server's lastSeen needs (decision 1041). */
  heartbeatIntervalMs: 15_000,
  /** The agent PINGs its session after this long without hearing the server: the keepalive of an
   *  idle tunnel. Under the 60 s idle timeout of typical load balancers and NATs; the server marks
   *  an agent Stale after 60 s without traffic and pings only after 45 s (issue 12: 250 bit/s). */
  idlePingIntervalMs: 30_000,
  /** TCP-level keepalive on the underlying socket, a second line of defence. */
  tcpKeepaliveMs: 15_000,

  /** Whole TLS + WebSocket handshake, including a CONNECT through a proxy. */
  connectTimeoutMs: 15_000,
  /** One HTTP request to the server (CA fetch, register, rotate, unregister). */
  requestTimeoutMs: 15_000,
  /** Largest HTTP response body we read from the server; the CA and JSON replies are tiny. */
  maxResponseBytes: 1024 * 1024,
  /** Registration answered 503 OVERLOADED: how many times we wait Retry-After and try again. */
  registerMaxAttempts: 8,
  /** Retry-After values above this are clamped, so a confused server cannot park us for days. */
  maxRetryAfterMs: 120_000,

  /** Cluster facts (Kubernetes version, node count) are re-read this often; sent only on change. */
  factsRefreshMs: 60_000,
  /** …but a change is sent at most this often within one session (the first facts at once). */
  factsMinResendMs: 10 * 60_000,
  /** Rotate the credential once this fraction of its lifetime has passed (while connected). */
  rotateAtLifetimeFraction: 0.5,
  /** A tunnel may stay up for months: while connected, re-check whether rotation is due this often. */
  rotationCheckMs: 60 * 60_000,
  /** Longest wait for a tunnel to close cleanly when the agent stops. */
  stopGraceMs: 2_000,
  /** Only one process of a device rotates the shared credential; its lease expires after this. */
  rotationLeaseMs: 60_000,
  /** Re-enrolment waits for another process's lease this many times, this long each. */
  recoverLeaseAttempts: 20,
  recoverLeaseWaitMs: 500,
  /** SQLite waits this long for a lock held by another role's process before failing. */
  sqliteBusyTimeoutMs: 5_000,
} as const);
