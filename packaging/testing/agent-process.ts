// Runs `drover agent run` inside a test root and waits until `agent status --json` reports the
// role connected (a bounded number of polls; tests never assert on wall-clock time).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { inRoot, QEMU_IN_ROOT, ROOT_ENV, type RootArch } from './rootfs.ts';

export interface RoleStatus {
  name: string;
  state: string;
  lastError: string | null;
}
export interface AgentStatus {
  server: string;
  clusterId: string | null;
  nodeId: string | null;
  roles: RoleStatus[];
  outbox: number;
}

export function agentStatus(root: string, arch: RootArch): AgentStatus | undefined {
  const res = inRoot(root, arch, ['/usr/local/bin/drover', 'agent', 'status', '--json']);
  if (res.status !== 0) return undefined;
  return JSON.parse(res.stdout) as AgentStatus;
}

export interface RunningAgent {
  pid: number;
  /** Resident set size from /proc (for arm64 this is qemu's, emulator included). */
  rssKiB(): number | undefined;
  /** The last 8 KiB the agent wrote (stdout and stderr), and how it exited if it did: for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export function runAgent(root: string, arch: RootArch, role: string): RunningAgent {
  const argv = ['/usr/local/bin/drover', 'agent', 'run', '--roles', role];
  const child = spawn('chroot', [root, ...(arch === 'arm64' ? [QEMU_IN_ROOT, ...argv] : argv)], { env: { ...ROOT_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (b: Buffer): void => {
    tail = (tail + b.toString('utf8')).slice(-8192);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return {
    pid: child.pid ?? -1,
    output() {
      const end = child.exitCode !== null || child.signalCode !== null ? `\n[exited: ${child.exitCode ?? child.signalCode}]` : '';
      return tail + end;
    },
    rssKiB() {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Number(m[1]) : undefined;
      } catch {
        return undefined;
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Polls until `role` is connected; returns the last status seen. */
export async function waitConnected(root: string, arch: RootArch, role: string, polls = 120): Promise<AgentStatus | undefined> {
  let last: AgentStatus | undefined;
  for (let i = 0; i < polls; i++) {
    last = agentStatus(root, arch);
    if (last?.roles.find((r) => r.name === role)?.state === 'connected') return last;
    await sleep(250);
  }
  return last;
}
