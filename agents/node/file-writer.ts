// Files a plan writes, written so that a power cut leaves either the old file or the new one,
// never a torn one (issue 15): write a temp file in the same directory, fsync it, rename it over the
// target, fsync the directory. The previous version is copied aside the same way first, for rollback.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { fsyncPath } from '../common/fsync.ts';

function chown(target: string, owner: string | undefined): void {
  if (owner === undefined) return;
  const [uid, gid] = owner.split(':').map(Number);
  fs.chownSync(target, uid ?? 0, gid ?? 0);
}

/** Writes `data` to `target` atomically with `mode` (and `owner` "uid:gid"), creating parent directories. */
export function writeFileAtomic(target: string, data: Buffer, mode: number, owner?: string): void {
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.drover-${randomBytes(4).toString('hex')}`);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeSync(fd, data);
    fs.fchmodSync(fd, mode);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    chown(tmp, owner);
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncPath(dir);
}

export function ensureDirectory(target: string, mode: number, owner?: string): void {
  fs.mkdirSync(target, { recursive: true, mode });
  fs.chmodSync(target, mode);
  chown(target, owner);
  fsyncPath(path.dirname(target));
}

/**
 * Copies what is at `target` now into `backupDir` (atomically) and returns where, or null when
 * nothing is there. Directories are not copied: restoring one means leaving it in place.
 */
export function backupFile(target: string, backupDir: string): { existed: boolean; backup: string | null } {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { existed: false, backup: null };
    throw err;
  }
  if (st.isDirectory()) return { existed: true, backup: null };
  const backup = path.join(backupDir, createHash('sha256').update(target).digest('hex').slice(0, 32));
  writeFileAtomic(backup, fs.readFileSync(target), st.mode & 0o7777, `${st.uid}:${st.gid}`);
  return { existed: true, backup };
}

/** Puts a backed-up version back (or removes a file the plan created). Safe to run again. */
export function restoreFile(target: string, b: { existed: boolean; backup: string | null }): void {
  if (!b.existed) {
    const st = fs.lstatSync(target, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
      try {
        fs.rmdirSync(target);
      } catch {
        // Not empty: something else put files there; leave it.
      }
    } else fs.rmSync(target, { force: true });
    return;
  }
  if (b.backup === null) return;
  const st = fs.statSync(b.backup);
  writeFileAtomic(target, fs.readFileSync(b.backup), st.mode & 0o7777, `${st.uid}:${st.gid}`);
}
