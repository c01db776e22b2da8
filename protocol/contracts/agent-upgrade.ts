// Agent self-upgrade over `http:drover-upgrade` (issue 16, docs/api.md): a stream target every
// agent process serves on each of its tunnels, called by the server's upgrade rollout
// (server-lite/upgrades/upgrade-sync.ts) and answered by agents/upgrade/upgrade-target.ts.
//   GET  /v1/upgrade           → the agent's upgrade state (below)
//   POST /v1/upgrade           ← an order: version, the signed sha256sums and its signature
//   PUT  /v1/upgrade/artifact?offset=N ← the executable's bytes from N on (resumable: the state's
//                                 `bytes` says where to go on); complete and verified, the agent
//                                 swaps and restarts by itself. Gzip-compressed when the order
//                                 says `encoding: 'gzip'` (offsets then count compressed bytes).
// The agent trusts nothing of the order but what the release key built into it verifies.
import * as z from 'zod';

export const UPGRADE_TARGET = 'http:drover-upgrade';
export const UPGRADE_PATH = '/v1/upgrade';
export const UPGRADE_ARTIFACT_PATH = '/v1/upgrade/artifact';

/** Per-agent states of a rollout, as `drover upgrade status` shows them (ARCHITECTURE.md §3). */
export const AGENT_UPGRADE_STATES = ['Pending', 'Downloading', 'Staged', 'Restarting', 'Succeeded', 'RolledBack', 'Failed', 'Offline'] as const;
export type AgentUpgradeState = (typeof AGENT_UPGRADE_STATES)[number];

/** What the agent itself can be in: `Idle` (no upgrade), or one of the states above but Pending/Offline. */
export const AGENT_UPGRADE_PHASES = ['Idle', 'Downloading', 'Staged', 'Restarting', 'Succeeded', 'RolledBack', 'Failed'] as const;
export type AgentUpgradePhase = (typeof AGENT_UPGRADE_PHASES)[number];

export const upgradeOrderSchema = z.strictObject({
  version: z.string().min(1).max(80),
  /** sha256sums as signed (text), at most 64 KiB. */
  sums: z.string().min(1).max(64 * 1024),
  /** sha256sums.sig (base64). */
  signature: z.string().min(1).max(512),
  /** Size of the executable in bytes (decompressed), for progress and as a bound. */
  size: z.int().min(1).max(1024 * 1024 * 1024),
  /** Only to an agent that listed it in its state's `encodings` (decision 1130): the bytes of
   *  PUT artifact are the gzip of the executable, `encodedSize` bytes long; offsets count those. */
  encoding: z.enum(['gzip']).optional(),
  encodedSize: z.int().min(1).max(1024 * 1024 * 1024).optional(),
});
export type UpgradeOrder = z.infer<typeof upgradeOrderSchema>;

export const upgradeStateSchema = z.object({
  phase: z.enum(AGENT_UPGRADE_PHASES),
  /** The version being installed (or last installed / refused). */
  version: z.string().nullable(),
  /** The SHA-256 of that version's executable for this CPU. */
  sha256: z.string().nullable(),
  bytes: z.int().min(0),
  total: z.int().min(0),
  message: z.string(),
  /** The running executable's SHA-256 (null when run from a checkout). */
  runningSha256: z.string().nullable(),
  runningVersion: z.string(),
  arch: z.string(),
  /** Content encodings the agent can take for the artifact (absent before decision 1130). While
   *  Downloading, `bytes`/`total` count the bytes as sent (compressed when encoded). */
  encodings: z.array(z.string()).optional(),
});
export type UpgradeStateWire = z.infer<typeof upgradeStateSchema>;
