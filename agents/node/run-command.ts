// Runs one plan instruction as its own process group, so a timeout stops everything it started
// (SIGTERM to the group, SIGKILL after a grace period), and keeps only the last 64 KiB of its
// combined output (issue 15). No shell: command and args are passed as they are.
import { spawn } from 'node:child_process';
import { PLAN_LIMITS } from '../../protocol/index.ts';

export interface CommandSpec {
  command: string;
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  workingDir?: string | undefined;
  timeoutMs: number;
}

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  output: string;
  /** Could not start at all (no such command, bad working dir). */
  spawnError?: string | undefined;
}

export const KILL_GRACE_MS = 2000;

/** The last `max` bytes written to it. */
export class TailBuffer {
  #chunks: Buffer[] = [];
  #size = 0;
  readonly #max: number;
  constructor(max = PLAN_LIMITS.outputBytes) {
    this.#max = max;
  }
  push(b: Buffer): void {
    this.#chunks.push(b);
    this.#size += b.length;
    while (this.#size - (this.#chunks[0]?.length ?? 0) >= this.#max && this.#chunks.length > 1) this.#size -= this.#chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.#chunks);
    return all.subarray(Math.max(0, all.length - this.#max)).toString('utf8');
  }
}

export function runCommand(spec: CommandSpec, baseEnv: NodeJS.ProcessEnv = process.env): Promise<CommandResult> {
  return new Promise((resolve) => {
    const tail = new TailBuffer();
    let timedOut = false;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(spec.command, [...spec.args], {
        cwd: spec.workingDir ?? '/',
        env: { PATH: baseEnv.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...spec.env },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      resolve({ exitCode: null, signal: null, timedOut: false, output: '', spawnError: (err as Error).message });
      return;
    }
    const group = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      group('SIGTERM');
      killTimer = setTimeout(() => group('SIGKILL'), KILL_GRACE_MS);
    }, spec.timeoutMs);
    child.stdout?.on('data', (b: Buffer) => tail.push(b));
    child.stderr?.on('data', (b: Buffer) => tail.push(b));
    let spawnError: string | undefined;
    child.on('error', (err) => {
      spawnError = err.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // The leader is gone; whatever it left running in its group goes too.
      if (timedOut) group('SIGKILL');
      clearTimeout(killTimer);
      resolve({ exitCode: code, signal, timedOut, output: tail.text(), ...(spawnError ? { spawnError } : {}) });
    });
  });
}

/** One line for a result: why an instruction failed, or that it worked. */
export function describeResult(r: CommandResult, timeoutMs: number): string {
  if (r.spawnError) return `could not start: ${r.spawnError}`;
  if (r.timedOut) return `timed out after ${timeoutMs} ms; its process group was killed`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit code ${r.exitCode}`;
}
