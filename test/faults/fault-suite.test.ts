// The fault suite (issue 14): real processes (kube-apiserver, drover server, a fleet agent) in a
// network namespace of their own, with real network faults on the agent's path to the server. This
// file only moves the run into a fresh network namespace (`unshare --net`, loopback up) and runs
// scenarios.ts there, whose TAP output is this file's. Short by default (part of ./bin/test);
// the full run with the durations: DROVER_FAULTS=full npx tap run --timeout 0 test/faults/fault-suite.test.ts
import { spawn } from 'node:child_process';
import path from 'node:path';
import { missingSupport } from './net-faults.ts';

const missing = missingSupport();
if (missing !== undefined) {
  const { default: t } = await import('tap');
  t.pass(`fault suite skipped: ${missing}`, { skip: true });
} else {
  const scenarios = path.join(import.meta.dirname, 'scenarios.ts');
  // A private mount namespace too: the agent's data dir is a small tmpfs (the disk-full scenario).
  const child = spawn('unshare', ['--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, ...process.execArgv, scenarios], {
    stdio: 'inherit',
    env: { ...process.env, DROVER_FAULT_NETNS: '1' },
  });
  const code = await new Promise<number>((resolve) => child.once('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
  process.exitCode = code;
}
