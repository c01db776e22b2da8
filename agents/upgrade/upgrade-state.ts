// The agent's upgrade record (issue 16): one JSON file, DATA_DIR/upgrade/state.json, written
// atomically (temporary file, fsync, rename, fsync of the directory) before each step of an
// upgrade, so a power cut at any point leaves a record that says what to finish or undo
// (swap.ts recover()). Its phases are the wire's (protocol/contracts/agent-upgrade.ts) plus
// `Swapping`, which exists only between "previous kept" and "new in place".
import fs from 'node:fs';
import path from 'node:path';
import type { AgentUpgradePhase } from '../../protocol/contracts/agent-upgrade.ts';
import { fsyncPath } from '../common/fsync.ts';

export type LocalPhase = AgentUpgradePhase | 'Swapping';

export interface UpgradeRecord {
  phase: LocalPhase;
  version: string | null;
  sha256: string | null;
  size: number;
  message: string;
  /** The executable being replaced (absolute path). */
  exe: string | null;
  /** Starts of the new executable since the swap, counted by itself; a second without a commit rolls back. */
  starts: number;
  /** The same counted by the unit's pre-start step (ExecStartPre, run by the previous executable),
   *  which also sees starts of a new executable that dies before running any of our code. */
  prestarts: number;
  /** Epoch ms by which the new executable must have connected, else it is rolled back. */
  deadline: number | null;
  updatedAt: number;
  /** Per-role units (decision 0902) share one executable and this record: starts and pre-starts are
   *  counted per process (its roles, e.g. "cluster" or "cluster,fleet,node"), so three role units
   *  starting once each are three first starts, not one executable started three times. */
  startsBy?: Record<string, number>;
  prestartsBy?: Record<string, number>;
  /** Roles running on the device when the swap happened: all must connect on the new executable. */
  roles?: string[];
  /** How the download travels (decision 1130): 'gzip' = the agent receives `<exe>.new.gz` of
   *  `encodedSize` bytes and decompresses it; null = the executable's bytes as they are. */
  encoding?: 'gzip' | null;
  encodedSize?: number;
}

export const IDLE: UpgradeRecord = Object.freeze({ phase: 'Idle', version: null, sha256: null, size: 0, message: '', exe: null, starts: 0, prestarts: 0, deadline: null, updatedAt: 0 });

export function stateFile(dataDir: string): string {
  return path.join(dataDir, 'upgrade', 'state.json');
}

export function readRecord(dataDir: string): UpgradeRecord {
  try {
    return { ...IDLE, ...(JSON.parse(fs.readFileSync(stateFile(dataDir), 'utf8')) as Partial<UpgradeRecord>) };
  } catch {
    return { ...IDLE };
  }
}

/** Durable before it returns: the next step may rely on it after a power cut. */
export function writeRecord(dataDir: string, rec: UpgradeRecord): UpgradeRecord {
  const file = stateFile(dataDir);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(rec));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncPath(path.dirname(file));
  return rec;
}

