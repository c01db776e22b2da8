// Every agent process of a device moves with the executable (issue 16, per-role units, decision
// 1132): the executable is shared by the role units, but only the process that received the order
// swaps it and restarts. Every other process notices that the file it started from was replaced
// (another inode at the path: an upgrade swapped in, or a rollback put the previous one back) and
// ends, so its unit restarts it on what is now installed. A swap in progress (record `Swapping`)
// is waited out, so a restart never sees a half-done swap.
// Idle cost (issue 25): the swap is a rename in the executable's folder, so an inotify watch on that
// folder (fs.watch) wakes the process only when a file there changes; a slow poll stays as the
// safety net for filesystems where inotify misses renames (network or overlay mounts).
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { imageOf } from './process-marks.ts';
import { readRecord } from './upgrade-state.ts';

export interface ExeWatchDeps {
  exe: string;
  dataDir: string;
  /** The image (`dev:ino`) this process started from. */
  image: string;
  onReplaced: () => void;
  /** Safety-net poll (default 60 s); the folder watch reacts at once. */
  pollMs?: number;
}

export function watchExecutable(d: ExeWatchDeps): () => void {
  let done = false;
  let retry: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  const stop = (): void => {
    done = true;
    clearInterval(timer);
    if (retry) clearTimeout(retry);
    watcher?.close();
  };
  const check = (): void => {
    if (done) return;
    const now = imageOf(d.exe);
    if (!now || now === d.image) return;
    if (readRecord(d.dataDir).phase === 'Swapping') {
      // The swap finishes within moments: look again then (the rename's event may already be past).
      if (!retry) retry = setTimeout(() => { retry = undefined; check(); }, 1000);
      retry.unref();
      return;
    }
    stop();
    d.onReplaced();
  };
  const timer = setInterval(check, d.pollMs ?? 60_000);
  timer.unref();
  try {
    const name = basename(d.exe);
    watcher = watch(dirname(d.exe), { persistent: false }, (_event, file) => {
      if (file === null || file === name) check();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    // No inotify here (or the folder is unreadable): the poll alone.
  }
  return stop;
}
