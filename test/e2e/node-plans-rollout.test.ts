// The plan rollout on real processes: two registered node agents, one server. --concurrency 1
// runs the plan on one node at a time (the instructions' own start/end lines never interleave),
// --max-failures 0 stops after the first failure until `plan resume`, and a maintenance window
// that is not open now holds every node back (Pending, saying why).
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createToken, drover, startAgent, startServer, waitFor, type Proc, type ServerProc } from './agent-helpers.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-plans-rollout-'));
let server: ServerProc;
const agents: Proc[] = [];
interface Status { checksum: string; halted: boolean; summary: Record<string, number>; nodes: { id: string; state: string; checksum: string | null; message: string }[] }
const admin = (args: string[]) => drover([...args, '--data-dir', server.dataDir]);
const status = async (name: string): Promise<Status> => JSON.parse((await admin(['plan', 'status', name, '--json'])).stdout) as Status;
function planFile(name: string, body: string): string {
  const f = path.join(tmp, `${name}.yaml`);
  fs.writeFileSync(f, `kind: Plan\n${body}`);
  return f;
}

t.before(async () => {
  server = await startServer(path.join(tmp, 'server'), 0, { DROVER_PLAN_SYNC_MS: '200' });
  for (const name of ['edge-a', 'edge-b']) {
    const dir = path.join(tmp, name);
    const token = await createToken(server.dataDir, ['--labels', 'site=roll']);
    const r = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', name, '--data-dir', dir]);
    if (r.exitCode !== 0) throw new Error(r.stderr);
    agents.push(startAgent(dir, ['--roles', 'node'], { DROVER_NODE_PLAN_SCAN_MS: '200', DROVER_LOG_LEVEL: 'info' }));
  }
  await waitFor('both nodes connected', async () => {
    const list = JSON.parse((await admin(['node', 'list', '--json'])).stdout) as { state: string }[];
    return list.length === 2 && list.every((n) => n.state === 'Connected');
  });
});

t.teardown(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await server?.proc.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

t.test('rollout: --concurrency 1 runs the plan on one node at a time', async (t) => {
  const log = path.join(tmp, 'one-at-a-time.log');
  const r = await admin(['plan', 'apply', planFile('serial', `instructions:\n  - {command: /bin/sh, args: ["-c", "echo start >> ${log}; sleep 1.5; echo end >> ${log}"], timeout: 30s}\n`), '--target', 'site=roll', '--concurrency', '1']);
  t.match(r.stdout, /2 nodes targeted/);
  await waitFor('both nodes Succeeded', async () => (await status('serial')).summary.succeeded === 2, 90_000);
  t.equal(fs.readFileSync(log, 'utf8'), 'start\nend\nstart\nend\n', 'never two at once');
});

t.test('rollout: --max-failures 0 stops after the first failure; plan resume goes on', async (t) => {
  await admin(['plan', 'apply', planFile('failing', `instructions:\n  - {command: /bin/false, timeout: 10s}\n`), '--target', 'site=roll', '--max-failures', '0']);
  const halted = await waitFor('the rollout to stop after one failure', async () => {
    const s = await status('failing');
    return s.halted && s.summary.rolledBack === 1 ? s : undefined;
  }, 90_000);
  t.equal(halted.summary.pending, 1, 'the other node did not start');
  t.match(halted.nodes.find((n) => n.state === 'Pending')?.message, /rollout stopped: 1 nodes failed/);
  t.match((await admin(['plan', 'status', 'failing'])).stdout, /stopped after failures/);
  t.equal((await admin(['plan', 'resume', 'failing'])).exitCode, 0);
  await waitFor('the second node to run after resume', async () => (await status('failing')).summary.rolledBack === 2, 90_000);
});

t.test('rollout: outside its maintenance window a node does not start, and says why', async (t) => {
  // A window on the day after today in every node's clock (here: the machine's own offset).
  const now = new Date();
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60_000);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][(local.getUTCDay() + 2) % 7];
  await admin(['plan', 'apply', planFile('windowed', `instructions:\n  - {command: /bin/true, timeout: 10s}\n`), '--target', 'site=roll', '--window', `${day} 01:00-02:00`]);
  const s = await waitFor('both nodes held by the window', async () => {
    const x = await status('windowed');
    return x.nodes.length === 2 && x.nodes.every((n) => /maintenance window/.test(n.message)) ? x : undefined;
  }, 60_000);
  t.equal(s.summary.pending, 2);
  t.equal(s.summary.succeeded, 0);
});
