// Putting a verified executable in place and taking it back (issue 16). The new file is staged
// beside the current one (`<exe>.new`, same file system, so rename is atomic); the swap hard-links
// the current executable to `<exe>.previous` (ARCHITECTURE.md §5: /usr/local/bin/drover.previous)
// and renames the new one over `<exe>`. Each step is preceded by a durable record (upgrade-state.ts)
// so recover() — run at every start, by the new executable and, through the unit's ExecStartPre,
// by the previous one — can finish or undo whatever a crash or power cut interrupted.
import fs from 'node:fs';
import path from 'node:path';
import { readRecord, writeRecord, type UpgradeRecord } from './upgrade-state.ts';
import { fsyncPath } from '../common/fsync.ts';

export const stagedPath = (exe: string): string => `${exe}.new`;
export const previousPath = (exe: string): string => `${exe}.previous`;

/** How long the new executable has to connect after the swap (DROVER_UPGRADE_HEALTH_MS overrides). */
export const HEALTH_DEADLINE_MS = 120_000;
/** Starts of the new executable allowed without a commit: the first; a second means it died. */
export const MAX_STARTS_WITHOUT_COMMIT = 1;

/**
 * Swaps the staged executable in. Returns the record saying the new one must now prove itself;
 * the caller then restarts (exits, and systemd or the supervisor starts `<exe>` again).
 */
export function swapIn(dataDir: string, rec: UpgradeRecord, now: number, healthMs: number, roles: readonly string[] = []): UpgradeRecord {
  const exe = rec.exe;
  if (!exe) throw new Error('no executable recorded');
  const staged = stagedPath(exe);
  const previous = previousPath(exe);
  writeRecord(dataDir, { ...rec, phase: 'Swapping', message: 'swapping executables', updatedAt: now });
  fs.rmSync(previous, { force: true });
  fs.linkSync(exe, previous);
  fsyncPath(path.dirname(exe));
  fs.renameSync(staged, exe);
  fsyncPath(path.dirname(exe));
  return writeRecord(dataDir, { ...rec, phase: 'Restarting', starts: 0, prestarts: 0, startsBy: {}, prestartsBy: {}, roles: [...roles], deadline: now + healthMs, message: `restarting into ${rec.version ?? 'the new version'}`, updatedAt: now });
}

/** Puts `<exe>.previous` back as `<exe>`; true when it did. */
export function restorePrevious(exe: string): boolean {
  const previous = previousPath(exe);
  if (!fs.existsSync(previous)) return false;
  const a = fs.statSync(exe, { throwIfNoEntry: false });
  const b = fs.statSync(previous);
  if (a && a.ino === b.ino && a.dev === b.dev) {
    // The swap stopped before the new file was renamed in: `<exe>` still is the previous one.
    fs.rmSync(previous);
  } else {
    fs.renameSync(previous, exe);
  }
  fsyncPath(path.dirname(exe));
  return true;
}

export type Recovery =
  | { action: 'none' }
  /** The new executable runs for the first time since the swap: connect before `deadline`, then commit. */
  | { action: 'health-check'; deadline: number; record: UpgradeRecord }
  /** The previous executable was put back: the process must exit so the previous one starts. */
  | { action: 'rolled-back'; record: UpgradeRecord };

/** The key a process's starts are counted under: its roles, sorted (one per unit, decision 0902). */
export const processKey = (roles: readonly string[]): string => [...roles].sort().join(',') || 'all';

/**
 * Run at every start before anything else: `in-process` by `drover agent run` itself, `pre-start`
 * by the unit's ExecStartPre (`drover.previous agent upgrade recover`). Each counts its own starts,
 * per process key (the roles of the unit: per-role units share the record).
 */
export function recover(dataDir: string, now: number, by: 'in-process' | 'pre-start' = 'in-process', key = 'all'): Recovery {
  const rec = readRecord(dataDir);
  const exe = rec.exe;
  if (!exe) return { action: 'none' };
  if (rec.phase === 'Swapping') {
    restorePrevious(exe);
    fs.rmSync(stagedPath(exe), { force: true });
    return { action: 'rolled-back', record: writeRecord(dataDir, { ...rec, phase: 'RolledBack', message: 'the swap was interrupted (crash or power cut); the previous executable was restored', updatedAt: now }) };
  }
  if (rec.phase !== 'Restarting') return { action: 'none' };
  const startsBy = { ...rec.startsBy };
  const prestartsBy = { ...rec.prestartsBy };
  if (by === 'in-process') startsBy[key] = (startsBy[key] ?? 0) + 1;
  else prestartsBy[key] = (prestartsBy[key] ?? 0) + 1;
  const starts = Math.max(0, ...Object.values(startsBy));
  const prestarts = Math.max(0, ...Object.values(prestartsBy));
  const why =
    rec.deadline !== null && now > rec.deadline
      ? `${rec.version ?? 'the new version'} did not connect within the health deadline`
      : Math.max(starts, prestarts) > MAX_STARTS_WITHOUT_COMMIT
        ? `${rec.version ?? 'the new version'} exited before it connected (started ${Math.max(starts, prestarts) - 1} time(s) without becoming healthy)`
        : undefined;
  if (why) return rollBack(dataDir, rec, why, now);
  const record = writeRecord(dataDir, { ...rec, starts, prestarts, startsBy, prestartsBy, updatedAt: now });
  return { action: 'health-check', deadline: rec.deadline ?? now + HEALTH_DEADLINE_MS, record };
}

export function rollBack(dataDir: string, rec: UpgradeRecord, why: string, now: number): Recovery {
  if (rec.exe) restorePrevious(rec.exe);
  return { action: 'rolled-back', record: writeRecord(dataDir, { ...rec, phase: 'RolledBack', message: `rolled back: ${why}; the previous executable runs again`, updatedAt: now }) };
}

/** The new executable connected: the upgrade is done and the previous executable goes away. */
export function commit(dataDir: string, now: number): UpgradeRecord | undefined {
  const rec = readRecord(dataDir);
  if (rec.phase !== 'Restarting' || !rec.exe) return undefined;
  const done = writeRecord(dataDir, { ...rec, phase: 'Succeeded', message: `running ${rec.version ?? 'the new version'}`, deadline: null, updatedAt: now });
  fs.rmSync(previousPath(rec.exe), { force: true });
  return done;
}
