// Starting and stopping the control plane's processes so that they outlive the `cluster up`
// command (detached, own process group, logs to files) and `cluster down` can find and end every
// one of them, without ever signalling an unrelated process that reused a PID.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcRecord {
  name: string;
  pid: number;
  /** A string that must appear in /proc/PID/cmdline for the PID to still be ours. */
  marker: string;
  log: string;
}

export function startDetached(name: string, bin: string, args: string[], logDir: string, marker: string): ProcRecord {
  const log = join(logDir, `${name}.log`);
  const fd = openSync(log, 'a');
  try {
    const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new Error(`could not start ${name} (${bin})`);
    child.unref();
    return { name, pid: child.pid, marker, log };
  } finally {
    closeSync(fd);
  }
}

/** True while the process exists, is not a zombie, and is still the one we started. */
export function isOurs(p: ProcRecord): boolean {
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    return readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes(p.marker);
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function signal(p: ProcRecord, sig: NodeJS.Signals): void {
  try {
    process.kill(-p.pid, sig); // the whole process group: the process and anything it forked
  } catch {
    try {
      process.kill(p.pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once none of them is alive. */
export async function stopAll(procs: readonly ProcRecord[], graceMs = 10_000): Promise<void> {
  const live = procs.filter(isOurs);
  for (const p of live) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (live.some(isOurs) && Date.now() < deadline) await sleep(50);
  for (const p of live.filter(isOurs)) signal(p, 'SIGKILL');
  const hard = Date.now() + 5_000;
  while (live.some(isOurs)) {
    if (Date.now() > hard) throw new Error(`processes survived SIGKILL: ${live.filter(isOurs).map((p) => `${p.name}(${p.pid})`).join(', ')}`);
    await sleep(50);
  }
}

export function logTail(p: ProcRecord, bytes = 3000): string {
  try {
    const s = readFileSync(p.log, 'utf8');
    return s.slice(-bytes);
  } catch {
    return '';
  }
}
