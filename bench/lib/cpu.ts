// CPU time spent by the benchmark's two processes, so throughput can also be reported as CPU per
// byte: on a shared machine wall-clock throughput swings with other people's work, while the CPU
// a transfer costs stays close to constant, which makes it the steadier comparison.

import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second for /proc/<pid>/stat times; 100 on every Linux we target. */
const CLOCK_TICKS = 100;

/** User + system CPU of another process in ms (Linux /proc; 10 ms resolution), NaN if unknown. */
export function processCpuMs(pid: number): number {
  try {
    return parseStatCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/** utime + stime from a /proc/<pid>/stat line. The command name (field 2) may hold spaces and
 *  parentheses, so fields are counted from the last ')'. Pure. */
export function parseStatCpuMs(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1000) / CLOCK_TICKS;
}

/** This process's user + system CPU in ms (microsecond resolution). */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU ms of this process plus `pids` since the returned function's creation. */
export function cpuMeter(pids: readonly number[]): () => number {
  const total = (): number => selfCpuMs() + pids.reduce((a, p) => a + processCpuMs(p), 0);
  const start = total();
  return () => total() - start;
}

/** CPU milliseconds per GiB moved. */
export function cpuMsPerGiB(cpuMs: number, bytes: number): number {
  return bytes > 0 ? cpuMs / (bytes / 2 ** 30) : Number.NaN;
}
