// Which agent processes of a device run which executable (issue 16, per-role units, decision 1132):
// each `drover agent run` leaves a mark, DATA_DIR/upgrade/procs/<pid>.json, with its roles and the
// identity (device, inode) of the executable it started from. The health gate of an upgrade
// commits only when every role that ran on the device at the swap is connected from a process
// started from the new executable; marks of processes that are gone are ignored and swept.
import fs from 'node:fs';
import path from 'node:path';

export interface ProcessMark {
  pid: number;
  roles: string[];
  /** `${dev}:${ino}` of the executable the process started from. */
  image: string;
}

/** `dev:ino` of a file; undefined when it cannot be read (absent, or /proc/self/exe under qemu-user: ELOOP). */
export const imageOf = (file: string): string | undefined => {
  try {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    return st ? `${st.dev}:${st.ino}` : undefined;
  } catch {
    return undefined;
  }
};

const dirOf = (dataDir: string): string => path.join(dataDir, 'upgrade', 'procs');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Records this process (and sweeps the marks of processes that are gone). */
export function markProcess(dataDir: string, mark: ProcessMark): () => void {
  const dir = dirOf(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const m of readMarks(dataDir, { includeGone: true })) if (!alive(m.pid)) fs.rmSync(path.join(dir, `${m.pid}.json`), { force: true });
  const file = path.join(dir, `${mark.pid}.json`);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(mark), { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
  return () => fs.rmSync(file, { force: true });
}

/** The marks of live processes (or all with includeGone). */
export function readMarks(dataDir: string, opts: { includeGone?: boolean } = {}): ProcessMark[] {
  let names: string[];
  try {
    names = fs.readdirSync(dirOf(dataDir)).filter((n) => /^\d+\.json$/.test(n));
  } catch {
    return [];
  }
  const out: ProcessMark[] = [];
  for (const n of names) {
    try {
      const m = JSON.parse(fs.readFileSync(path.join(dirOf(dataDir), n), 'utf8')) as ProcessMark;
      if (typeof m.pid === 'number' && Array.isArray(m.roles) && typeof m.image === 'string' && (opts.includeGone || alive(m.pid))) out.push(m);
    } catch {
      // half-written or foreign: ignored
    }
  }
  return out;
}

/** Roles run by live processes started from `image` (the executable about to be replaced). */
export function rolesRunning(dataDir: string, image: string | undefined): string[] {
  if (!image) return [];
  return [...new Set(readMarks(dataDir).filter((m) => m.image === image).flatMap((m) => m.roles))].sort();
}
