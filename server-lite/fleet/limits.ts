// Every limit and timeout of the fleet manager, named in one place with the reason for its value.

export const FLEET_LIMITS = Object.freeze({
  /** fleet.yaml is a small config file; anything larger is a mistake, refused before parsing. */
  maxFleetYamlBytes: 1024 * 1024,
  /** A single manifest or values file read from a bundle; bounds memory per file. */
  maxSourceFileBytes: 32 * 1024 * 1024,
  /** Rendered output per target; issue 6 asks for tens of MiB, a bit more is headroom. */
  maxRenderedBytes: 64 * 1024 * 1024,
  /** helm/kustomize get this long per target; a hung renderer must not stall the others. */
  renderTimeoutMs: 120_000,
  /** Renders of one bundle run this many at a time: helm/kustomize are CPU-bound, edge servers small. */
  renderConcurrency: 2,
  /** Directory walk depth for bundle discovery; a symlink loop or vendored tree stops here. */
  maxDiscoveryDepth: 16,
  /** Blobs of a chunked manifest set: small enough for one SQLite row or one tunnel message burst. */
  chunkBytes: 1024 * 1024,

  /** Git polling: default interval (Fleet's default is 15 s), and backoff on errors. */
  gitPollIntervalMs: 15_000,
  gitBackoffBaseMs: 1_000,
  gitBackoffMaxMs: 5 * 60_000,
  /** One git command (clone/fetch over a slow edge link) gets this long before it is killed. */
  gitCommandTimeoutMs: 5 * 60_000,
  /** A directory pushed by `drover bundle apply`: compressed, uncompressed and file-count bounds. */
  maxSourceArchiveBytes: 64 * 1024 * 1024,
  maxSourceBytes: 256 * 1024 * 1024,
  maxSourceFiles: 20_000,
  /** Push payloads list commits; GitHub caps them at 25 MB but we only need the head, so 5 MiB. */
  maxWebhookBytes: 5 * 1024 * 1024,
  /** How often the server checks whether clusters, their labels or cluster groups changed, so
   *  bundles are rendered again for them (a device registered today gets yesterday's bundles). */
  retargetIntervalMs: 2_000,
  /** While clusters keep changing (a mass enrollment), bundles are rendered again at least this often. */
  retargetMaxDelayMs: 30_000,
  /** Manifest sets and blobs nothing refers to any more are dropped this often (fleet.db stays bounded). */
  gcIntervalMs: 10 * 60_000,
  /** Output kept from a failing tool for the error message; the rest is dropped. */
  maxToolErrorChars: 4_000,
});

/** The delivery loop (fleet-sync.ts). */
export const FLEET_SYNC_LIMITS = Object.freeze({
  /** How often connected fleet agents are checked for undelivered revisions and queued statuses:
   *  short, because "applied within seconds of reconnect" is the acceptance bar. */
  intervalMs: 1_000,
  /** Serialised PUT bodies kept (full sets and deltas, by bundle, revision, options and base). */
  cachedBodies: 16,
  /** A delta is sent only when it is at least this many times smaller than the whole set. */
  deltaMinSaving: 2,
  /** Statuses drained from agents within this long of each other are committed together (they are
   *  acknowledged to each agent only after that commit). */
  statusFlushMs: 5,
  /** Delivery acknowledgements are stored together after this long (one commit for many agents). */
  ackFlushMs: 100,
  /** Agents synced at once: bounds open streams and memory when thousands reconnect together. */
  concurrency: 64,
  /** A session whose sync failed (the agent answered 5xx, a stream broke) is retried after this
   *  backoff, not every cycle: a 20 MiB PUT a second to an agent whose disk is full helps nobody. */
  retryBackoff: { baseMs: 1_000, maxMs: 30_000 },
  /** One request to an agent; a 20 MiB bundle over a slow link needs minutes, not seconds. */
  requestTimeoutMs: 300_000,
  /** Largest answer read from an agent (outbox batches are a few hundred small statuses). */
  maxAnswerBytes: 8 * 1024 * 1024,
  /** An agent whose deployments did not change is asked for its outbox this often: polling 10k
   *  idle agents every second would cost 10k streams a second (decision 0750). */
  idleDrainMs: 10_000,
  /** …and this often when its resume point says it signals queued statuses (`outbox-signal`,
   *  decision 1041): it says so itself, so this is only the safety net. */
  signalledIdleDrainMs: 10 * 60_000,
  /** After a delivery or a reconnect the outbox is drained every cycle for this long, so the
   *  new revision's states (WaitApplied → Ready) show up within a second or two. */
  hotDrainMs: 60_000,
  /** Manifest sets kept decoded for delivery (per-target Helm values make one per distinct render). */
  cachedSets: 8,
  /** Statuses asked for per outbox request (the agent caps it at its own batch size too). */
  outboxBatch: 200,
} as const);
