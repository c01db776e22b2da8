// Resident memory of a process, read from /proc (Linux). Benchmarks compare deltas of this
// figure, taken after a GC settles, so the per-connection cost is what the process really holds.
import { readFileSync } from 'node:fs';

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Bytes per connection between two readings; negative noise clamps to 0. */
export function perConnection(before: number, after: number, connections: number): number {
  if (connections <= 0) return 0;
  return Math.max(0, after - before) / connections;
}
