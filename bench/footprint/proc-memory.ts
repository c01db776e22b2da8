// Memory of one process as the kernel accounts it (issue 25): RSS and PSS split into anonymous
// and file-backed pages, and the high-water mark. Parsers are pure (text in, numbers out) so the
// smoke test pins them; `readMemory` is the thin /proc reader.
import { readFileSync } from 'node:fs';

export interface ProcMemory {
  /** Resident set (VmRSS), bytes. */
  rss: number;
  /** Proportional set: shared pages divided among the processes mapping them. */
  pss: number;
  pssAnon: number;
  pssFile: number;
  /** Anonymous resident pages (heap, stacks, V8), from /proc/PID/status. */
  rssAnon: number;
  /** File-backed resident pages (the executable's code and the SEA blob, the SQLite addon). */
  rssFile: number;
  /** Peak RSS since the process started (VmHWM). */
  hwm: number;
}

function kb(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
  if (!m) throw new Error(`no ${field} in /proc text`);
  return Number(m[1]) * 1024;
}

/** Parses /proc/PID/status and /proc/PID/smaps_rollup. */
export function parseProcMemory(status: string, smapsRollup: string): ProcMemory {
  return {
    rss: kb(status, 'VmRSS'),
    pss: kb(smapsRollup, 'Pss'),
    pssAnon: kb(smapsRollup, 'Pss_Anon'),
    pssFile: kb(smapsRollup, 'Pss_File'),
    rssAnon: kb(status, 'RssAnon'),
    rssFile: kb(status, 'RssFile'),
    hwm: kb(status, 'VmHWM'),
  };
}

export function readMemory(pid: number): ProcMemory {
  return parseProcMemory(readFileSync(`/proc/${pid}/status`, 'utf8'), readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
}

/** Field-wise sum: the default install as a whole when its roles run as several processes. */
export function sumMemory(list: readonly ProcMemory[]): ProcMemory {
  const z: ProcMemory = { rss: 0, pss: 0, pssAnon: 0, pssFile: 0, rssAnon: 0, rssFile: 0, hwm: 0 };
  for (const m of list) for (const k of Object.keys(z) as (keyof ProcMemory)[]) z[k] += m[k];
  return z;
}

export const toMiB = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

/** Resident bytes per mapping kind ("/path r-xp", "[heap] rw-p", "[anon] rw-p") from /proc/PID/smaps. Pure. */
export function parseSmapsByMapping(smaps: string): Map<string, number> {
  const out = new Map<string, number>();
  let current = '';
  for (const line of smaps.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      current = `${head[2] || '[anon]'} ${head[1]}`;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out.set(current, (out.get(current) ?? 0) + Number(rss[1]) * 1024);
  }
  return out;
}

export function readSmapsByMapping(pid: number): Map<string, number> {
  return parseSmapsByMapping(readFileSync(`/proc/${pid}/smaps`, 'utf8'));
}
