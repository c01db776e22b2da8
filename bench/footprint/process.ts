// Starts one executable for bench/footprint.ts and times it from spawn to the moment every role it
// runs has logged "tunnel connected" (the agent's pino line; the bare baseline prints the same).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { processCpuMs } from '../lib/cpu.ts';

export interface Started {
  pid: number;
  /** ms from spawn to the last role's "tunnel connected". */
  connectedMs: number;
  /** CPU (user + system) the process spent until then: what a busy shared machine does not inflate. */
  connectedCpuMs: number;
  stderrTail(): string;
  stop(): Promise<void>;
}

/** Evicts `file` from the page cache: dd's `iflag=nocache count=0` is posix_fadvise(DONTNEED) on
 *  the whole file. Pages another process maps stay; the bench keeps its server on another copy. */
export function evict(file: string): void {
  const res = spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
  if (res.status !== 0) throw new Error(`dd could not evict ${file}: ${res.stderr.toString()}`);
}

/** Connect waits are bounded; a role that never connects fails the run with its stderr. */
const CONNECT_TIMEOUT_MS = 60_000;

export async function startUntilConnected(exe: string, args: readonly string[], env: NodeJS.ProcessEnv, roles: number): Promise<Started> {
  const t0 = performance.now();
  const child: ChildProcess = spawn(exe, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  let pending = '';
  let connected = 0;
  let connectedMs = NaN;
  let connectedCpuMs = NaN;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${exe} ${args.join(' ')}: not connected after ${CONNECT_TIMEOUT_MS} ms\n${tail}`)), CONNECT_TIMEOUT_MS);
    child.stderr!.on('data', (d: Buffer) => {
      const now = performance.now();
      tail = (tail + d.toString()).slice(-4000);
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"tunnel connected"')) continue;
        connected++;
        if (connected === roles) {
          connectedMs = now - t0;
          connectedCpuMs = processCpuMs(child.pid!);
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${exe} ${args.join(' ')} exited ${code ?? sig} before connecting\n${tail}`));
    });
  });
  try {
    await done;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    pid: child.pid!,
    connectedMs,
    connectedCpuMs,
    stderrTail: () => tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
