// The machine a run happened on, printed at the top of every report (figures without their
// machine are not comparable).

import os from 'node:os';
import { execFileSync } from 'node:child_process';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly go: string;
  /** 1-minute load average when the run started; figures from a busy machine are noise. */
  readonly loadAtStart: number;
}

/** Load above this fraction of the cores before the run means someone else is using the CPU. */
export const BUSY_LOAD_PER_CORE = 0.5;
/** The benchmark's own two busy processes lift the load average by about this much by the end. */
export const OWN_LOAD = 2;

/** A warning line when the machine was busy at the start or the end of the run, else undefined.
 *  The end value is judged with the benchmark's own load allowed for. */
export function busyWarning(cores: number, loadAtStart: number, loadAtEnd: number): string | undefined {
  const limit = cores * BUSY_LOAD_PER_CORE;
  if (loadAtStart <= limit && loadAtEnd <= limit + OWN_LOAD) return undefined;
  return `WARNING: load average ${loadAtStart.toFixed(2)} at start, ${loadAtEnd.toFixed(2)} at end on ${cores} cores (this run adds about ${OWN_LOAD}): other work shared the CPU, so these figures are unreliable; rerun on a quiet machine`;
}

export function goVersion(): string {
  try {
    return execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } }).trim();
  } catch {
    return 'not found';
  }
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    go: goVersion(),
    loadAtStart: os.loadavg()[0] ?? 0,
  };
}
