// Control-plane nodes first, one at a time, on real processes (issue 15, decision 1062): three node
// agents report the fact `node.controlPlane` (set with DROVER_NODE_CONTROL_PLANE: on this shared
// machine every agent would see some test's kube-apiserver in /proc; the detection itself is
// unit-tested in agents/node/facts-provider.test.ts and seen for real in k8s-upgrade.test.ts).
// With --concurrency 100 %, the two control-plane nodes still run one after the other, and the
// worker starts only when both are done.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createToken, drover, startAgent, startServer, waitFor, type Proc } from './agent-helpers.ts';

t.test('rollout: control-plane nodes (node.controlPlane) go first and one at a time, then workers', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-plans-cp-'));
  const server = await startServer(path.join(tmp, 'server'), 0, { DROVER_PLAN_SYNC_MS: '200' });
  const agents: Proc[] = [];
  t.teardown(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await server.proc.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const admin = (args: string[]) => drover([...args, '--data-dir', server.dataDir]);
  // The worker registers first, so a rollout that ignored the fact would likely start with it.
  for (const [name, cp] of [['worker-1', 'false'], ['cp-a', 'true'], ['cp-b', 'true']] as const) {
    const dir = path.join(tmp, name);
    const r = await drover(['agent', 'register', '--server', server.url, '--token', await createToken(server.dataDir, ['--labels', 'site=cpfirst']), '--name', name, '--data-dir', dir]);
    t.equal(r.exitCode, 0, r.exitCode === 0 ? `${name} registered` : r.stderr);
    // Instructions get the agent's PATH and nothing else of its environment: a per-node `node-name`
    // on PATH tells the plan's command which node runs it (all three share this host's hostname).
    fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'bin', 'node-name'), `#!/bin/sh\necho ${name}\n`, { mode: 0o755 });
    agents.push(startAgent(dir, ['--roles', 'node'], { DROVER_NODE_PLAN_SCAN_MS: '200', DROVER_NODE_CONTROL_PLANE: cp, PATH: `${path.join(dir, 'bin')}:${process.env.PATH ?? ''}` }));
  }
  const facts = await waitFor('three nodes connected with their control-plane fact', async () => {
    const list = JSON.parse((await admin(['node', 'list', '--json'])).stdout) as { state: string; facts: { extras?: Record<string, string> } }[];
    return list.length === 3 && list.every((n) => n.state === 'Connected' && n.facts.extras?.['node.controlPlane'] !== undefined) ? list : undefined;
  }, 60_000);
  t.same(facts.map((n) => n.facts.extras?.['node.controlPlane']).sort(), ['false', 'true', 'true']);

  // Each run appends "start NODE" / "end NODE".
  const log = path.join(tmp, 'order.log');
  const script = `n=$(node-name); echo "start $n" >> ${log}; sleep 1; echo "end $n" >> ${log}`;
  const plan = path.join(tmp, 'order.yaml');
  fs.writeFileSync(plan, `kind: Plan\ninstructions:\n  - command: /bin/sh\n    args: ["-c", ${JSON.stringify(script)}]\n    timeout: 30s\n`);
  const r = await admin(['plan', 'apply', plan, '--target', 'site=cpfirst', '--concurrency', '100%']);
  t.equal(r.exitCode, 0, r.exitCode === 0 ? 'applied' : r.stderr);
  await waitFor('all three Succeeded', async () => (JSON.parse((await admin(['plan', 'status', 'order', '--json'])).stdout) as { summary: { succeeded: number } }).summary.succeeded === 3, 120_000);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  t.equal(lines.length, 6, lines.join(' | '));
  const [first, second] = [lines[0]?.split(' ')[1], lines[2]?.split(' ')[1]];
  t.same([lines[0], lines[1]], [`start ${first}`, `end ${first}`], 'the first control-plane node ran alone');
  t.same([lines[2], lines[3]], [`start ${second}`, `end ${second}`], 'then the second, alone');
  t.same([first, second].sort(), ['cp-a', 'cp-b'], 'both control-plane nodes before any worker');
  t.same(lines.slice(4), ['start worker-1', 'end worker-1'], 'the worker last, though --concurrency 100 % allowed all at once');
});
