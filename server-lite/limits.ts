// Every limit and timeout of server-lite, named in one place with the reason for its value.

export const LIMITS = Object.freeze({
  /** CA lifetime: join tokens carry its hash, so replacing it re-enrols every device. */
  caLifetimeDays: 3650,
  /** Serving certificate lifetime; re-issued from the same CA on restart when near expiry. */
  servingCertLifetimeDays: 825,
  servingCertRenewBeforeDays: 30,

  /** Request bodies are small JSON documents; anything larger is refused before parsing. */
  maxBodyBytes: 64 * 1024,
  /** Slow-loris guard: a request must arrive completely within this time. */
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 15_000,
  /**
   * How often Node checks the two timeouts above. Node's default (30 s) let a 15 s header timeout
   * close a connection only after 36 s (issue 14); checking every second costs one pass over open
   * connections per second and enforces both within a second of their value (decision 0850).
   */
  connectionsCheckingIntervalMs: 1_000,
  /** JSON bodies nesting deeper than this are refused before parsing (decision 0851). */
  maxJsonDepth: 32,

  /** Registrations hash secrets and write with synchronous=FULL; bound the work in flight. */
  maxConcurrentRegistrations: 64,
  /**
   * Upgrades in flight, from the request until the agent's HELLO (or the session's end): bound so a
   * reconnect storm queues at the agents (503 + Retry-After). Held through the HELLO round trip,
   * so larger than the 256 that bounded authentication alone.
   */
  maxConcurrentUpgrades: 1024,
  /** How long an admitted tunnel may take to send its HELLO (protocol default 10 s). */
  sessionHelloTimeoutMs: 30_000,
  /** Hard cap on open tunnel sessions per server process. */
  maxSessions: 20_000,
  /** Retry-After for shed requests is drawn from this range (seconds) so retries spread out. */
  retryAfterMinSeconds: 2,
  retryAfterMaxSeconds: 10,

  /** On shutdown, tunnels get this long to answer GOAWAY before their sockets are dropped. */
  shutdownGraceMs: 3_000,

  /** Agents send traffic at least this often (their idle PING, 30 s since issue 12; older agents
   *  heartbeat every 15 s); Stale after 2 intervals without traffic (issue 4). */
  heartbeatIntervalMs: 30_000,
  /** The server PINGs a session only after this long without a frame: longer than the agents'
   *  idle PING, so an idle tunnel carries one PING/PONG per 30 s, not two (decision 1041). */
  sessionPingIntervalMs: 45_000,
  staleAfterIntervals: 2,
  /** Offline after this long without traffic (or no live session and never seen). */
  offlineAfterMs: 5 * 60_000,
  /** lastSeen is kept in memory and flushed in one transaction at this period. */
  lastSeenFlushMs: 5_000,
  /**
   * …but an agent already stored is written again only once its lastSeen moved this much: 20k
   * agents heartbeating every 15 s are ~330 rows/s instead of ~1,300 (Stale needs 30 s, Offline
   * 5 min; this server reads memory first, so only a restart sees the coarser value).
   */
  lastSeenStoreResolutionMs: 60_000,

  /** Default join token lifetime and uses (`drover token create` without flags). */
  defaultTokenTtlMs: 24 * 60 * 60_000,
  defaultTokenUses: 1,
  /** Credential lifetime; expiry is enforced only by asking connected agents to rotate. */
  credentialLifetimeMs: 90 * 24 * 60 * 60_000,

  /**
   * Frames an agent may send that cost the server an answer or work (OPEN, PING, CONTROL, HELLO),
   * per agent across its sessions: this many at once, then this many per second. A Drover agent
   * sends about one every few seconds (heartbeats, PINGs, facts on change); past the budget the
   * session closes with RATE_LIMITED (close 4004), so a peer that floods and never reads costs
   * at most ~100 queued answers (decision 0853).
   */
  agentFrameBurst: 100,
  agentFramesPerSecond: 10,

  /** Facts are a small JSON object; larger ones are refused. */
  maxFactsBytes: 16 * 1024,
  maxLabels: 64,

  /** Audit rows are written in batches: at most this long after the first queued row… */
  auditFlushMs: 100,
  /** …or at once when this many are queued (a watch storm must not grow the queue unbounded). */
  auditBatchMax: 500,
  /** `audit list` pages. */
  auditPageMax: 1000,

  /** Login and API tokens: default lifetime of a token minted by login or `user token create`. */
  userTokenTtlMs: 30 * 24 * 60 * 60_000,
  /**
   * RBAC propagation (decision 0800): a failed push is retried after base·2^(n-1), halved and
   * jittered, up to the cap; nothing is pushed on a period. The cap bounds how stale a cluster
   * whose agent keeps failing can stay once it recovers, at ≤ 1 push per cluster per 10 min.
   */
  rbacRetryBaseMs: 2_000,
  rbacRetryMaxMs: 10 * 60_000,
  /**
   * Kubernetes facts (nodes, Warning events) are pulled when the agent connects, on `cluster get`,
   * and again about this long after each pull (±25 % jitter): 20k clusters cost ~70 pulls/s, not
   * the ~670/s of the former 30 s period. Failed pulls back off from the base up to this interval.
   * 15 min since issue 12: a pull is ~2 KB on the agent's link, the largest idle cost after the
   * keepalive; `cluster get` still pulls fresh facts on demand.
   */
  kubeFactsIntervalMs: 15 * 60_000,
  kubeFactsRetryBaseMs: 5_000,
  /** Pushes or pulls to cluster agents in flight at once per kind: a reconnect storm queues. */
  clusterSyncConcurrency: 16,
  /** `cluster get` waits this long for fresh facts from a connected agent before showing the stored ones. */
  kubeFactsOnReadMs: 3_000,
  /** A drover-side stream request (RBAC sync, facts) that gets no answer in this time is abandoned. */
  agentRequestTimeoutMs: 20_000,
} as const);
