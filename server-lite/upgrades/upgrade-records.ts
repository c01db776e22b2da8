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
}

export interface UpgradeRecords {
  putRelease(r: ReleaseRecord): void;
  releases(): ReleaseRecord[];
  release(version: string, arch: string): ReleaseRecord | undefined;

  /** Inserts a rollout and marks any Running one Superseded, in one transaction. */
  startRollout(r: RolloutRecord, agents: readonly UpgradeAgentRecord[]): void;
  activeRollout(): RolloutRecord | undefined;
  latestRollout(): RolloutRecord | undefined;
  setRolloutState(id: string, state: RolloutState, message: string, now: number): void;
  agents(rolloutId: string): UpgradeAgentRecord[];
  /** Inserts or replaces one agent's row. */
  putAgent(a: UpgradeAgentRecord): void;
}
