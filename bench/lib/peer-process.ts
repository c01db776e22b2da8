// Starts the agent-side child (peer/agent.ts) on the same Node and waits for its one-line report.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PeerReport } from '../peer/agent.ts';

const AGENT = fileURLToPath(new URL('../peer/agent.ts', import.meta.url));

export interface Peer {
  readonly report: PeerReport;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** `nodeArgs` lets a profiling run pass `--cpu-prof` to the agent end as well. */
export function startPeer(tunnelUrl: string | undefined, timeoutMs: number, nodeArgs: readonly string[] = []): Promise<Peer> {
  const child = spawn(process.execPath, [...nodeArgs, AGENT, ...(tunnelUrl === undefined ? [] : [tunnelUrl])], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.stdin?.end();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`agent child sent no report within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent child exited with ${code} before reporting`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ report: JSON.parse(line) as PeerReport, child, stop });
    });
  });
}
