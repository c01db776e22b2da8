// What the server keeps about releases and agent upgrade rollouts (migration 7, issue 16). A narrow
// interface so the SQLite store (store/sqlite-upgrades.ts) and the PostgreSQL one implement the
// same thing; times are epoch milliseconds.
import type { AgentUpgradeState } from '../../protocol/contracts/agent-upgrade.ts';

export interface ReleaseRecord {
  version: string;
  arch: string;
  /** `drover-linux-<arch>`. */
  artifact: string;
  sha256: string;
  size: number;
  /** The signed sha256sums text and its signature, passed to agents as they are. */
  sums: string;
  signature: string;
  /** Path of the stored executable, relative to the data dir. */
  file: string;
  importedAt: number;
}

export type RolloutState = 'Running' | 'Halted' | 'Done' | 'Superseded';

export interface RolloutRecord {
  id: string;
  version: string;
  target: string;
  maxUnavailable: string;
  canary: number;
  state: RolloutState;
  message: string;
  createdAt: number;
  updatedAt: number;
}

export interface UpgradeAgentRecord {
  rolloutId: string;
  agentId: string;
  /** Stored states never include Offline: that one is derived from the sessions at read time. */
  state: Exclude<AgentUpgradeState, 'Offline'>;
  canary: boolean;
  fromVersion: string | null;
  bytes: number;
  total: number;
  message: string;
  since: number;
  /** Told to start by the scheduling replica (HA); the replica holding the agent's tunnel delivers. */
  assigned?: boolean;
}

export interface UpgradeRecords {
  putRelease(r: ReleaseRecord): Promise<void>;
  releases(): Promise<ReleaseRecord[]>;
  release(version: string, arch: string): Promise<ReleaseRecord | undefined>;
  /** Removes every architecture of `version` (and its stored bytes, where the store keeps them); the count of rows removed. */
  deleteVersion(version: string): Promise<number>;

  /** Inserts a rollout and marks any Running one Superseded, in one transaction. */
  startRollout(r: RolloutRecord, agents: readonly UpgradeAgentRecord[]): Promise<void>;
  activeRollout(): Promise<RolloutRecord | undefined>;
  latestRollout(): Promise<RolloutRecord | undefined>;
  setRolloutState(id: string, state: RolloutState, message: string, now: number): Promise<void>;
  agents(rolloutId: string): Promise<UpgradeAgentRecord[]>;
  /** Inserts or replaces one agent's row. */
  putAgent(a: UpgradeAgentRecord): Promise<void>;
  /** Marks agents told to start (the scheduler's decision, read by every replica's delivery). */
  markAssigned(rolloutId: string, agentIds: readonly string[]): Promise<void>;

  /**
   * A store shared by replicas keeps the executables' bytes too (decision 1111): stored at import,
   * fetched by a replica that lacks the file. A store without them keeps only DATA_DIR/releases/.
   */
  putArtifact?(version: string, arch: string, file: string): Promise<void>;
  /** Writes the stored bytes to `dest`; false when none are stored. */
  readArtifact?(version: string, arch: string, dest: string): Promise<boolean>;
}
