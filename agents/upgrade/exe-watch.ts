// Every agent process of a device moves with the executable (issue 16, per-role units, decision
// 1132): the executable is shared by the role units, but only the process that received the order
// swaps it and restarts. Every other process notices that the file it started from was replaced
// (another inode at the path: an upgrade swapped in, or a rollback put the previous one back) and
// ends, so its unit restarts it on what is now installed. A swap in progress (record `Swapping`)
// is waited out, so a restart never sees a half-done swap.
import { imageOf } from './process-marks.ts';
import { readRecord } from './upgrade-state.ts';

export interface ExeWatchDeps {
  exe: string;
  dataDir: string;
  /** The image (`dev:ino`) this process started from. */
  image: string;
  onReplaced: () => void;
  pollMs?: number;
}

export function watchExecutable(d: ExeWatchDeps): () => void {
  const timer = setInterval(() => {
    const now = imageOf(d.exe);
    if (!now || now === d.image) return;
    if (readRecord(d.dataDir).phase === 'Swapping') return;
    clearInterval(timer);
    d.onReplaced();
  }, d.pollMs ?? 1000);
  timer.unref();
  return () => clearInterval(timer);
}
