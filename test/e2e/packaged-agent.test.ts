// Issue 25 acceptance, in the normal suite: key e2e scenarios against the packaged amd64 executable
// with the chosen settings (lite mode baked in, the server re-executed with its JIT, the agent
// unit's Environment=), not the checkout. One `drover server` and one default-install agent (all
// roles in one process) on a real kube-apiserver: a bundle applies and reaches Ready, kubectl goes
// through the server's proxy, drift is corrected with the server down and reported after it is
// back, and a node plan runs. The executable is built once and cached per checkout
// (packaging/testing/dist.ts); the helpers run it through DROVER_TEST_EXE, as the whole e2e suite
// can (`DROVER_TEST_EXE=… npx tap run test/e2e/…`).
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { checkoutDist } from '../../packaging/testing/dist.ts';
import { parseUnitEnvironment } from '../../bench/footprint/unit-env.ts';
import { startCluster, tools } from '../k8s/harness.ts';

const exe = path.join(checkoutDist(['amd64']).dir, 'drover-linux-amd64');
process.env['DROVER_TEST_EXE'] = exe;
// Imported after the variable is set: the helpers read it once, when loaded.
const { DROVER, ROOT, createToken, drover, startAgent, startServer, testDir, waitFor } = await import('./agent-helpers.ts');
const { fleetServerEnv } = await import('./fleet-helpers.ts');

interface BundleStatus { revision: string; clusters: { id: string; state: string; message: string }[] }
interface PlanStatus { checksum: string; nodes: { state: string; checksum: string | null }[] }

t.test('packaged executable: bundle apply, proxy, offline drift, node plan', async (t) => {
  t.equal(DROVER, exe, 'the helpers run the packaged executable');
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const serverEnv = fleetServerEnv({ DROVER_PLAN_SYNC_MS: '200' });
  let server = await startServer(serverDir, 0, serverEnv);
  t.teardown(() => server.proc.stop());
  t.equal(fs.readlinkSync(`/proc/${server.proc.pid}/exe`), exe, 'the server is the packaged executable');

  const admin = (args: string[]) => drover([...args, '--data-dir', serverDir]);
  const kubectl = async (kubeconfig: string, args: string[]) => {
    const r = await execa(tools.kubectl(), ['--kubeconfig', kubeconfig, '--cache-dir', path.join(dir, 'kube-cache'), ...args], { reject: false, timeout: 60_000 });
    return { code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) };
  };

  // The default install: all roles in one process, with the agent unit's environment.
  const unitEnv = parseUnitEnvironment(fs.readFileSync(path.join(ROOT, 'systemd', 'drover-agent.service'), 'utf8'));
  const agentDir = path.join(dir, 'agent');
  const token = await createToken(serverDir, ['--labels', 'site=packaged']);
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', 'edge-1', '--labels', 'site=packaged', '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, reg.stderr);
  const agentEnv = { ...unitEnv, DROVER_FLEET_INTERVAL_MS: '1000', DROVER_NODE_PLAN_SCAN_MS: '200', DROVER_LOG_LEVEL: 'info' };
  const agent = startAgent(agentDir, [], agentEnv);
  t.teardown(() => agent.stop());
  const connected = await waitFor('all three roles connected', async () => {
    const r = await drover(['agent', 'status', '--json', '--data-dir', agentDir]);
    const s = r.exitCode === 0 ? (JSON.parse(r.stdout) as { clusterId: string; nodeId: string; roles: { name: string; state: string }[] }) : undefined;
    return s && s.roles.length === 3 && s.roles.every((x) => x.state === 'connected') ? s : undefined;
  }, 60_000);
  t.equal(fs.readlinkSync(`/proc/${agent.pid}/exe`), exe, 'the agent is the packaged executable');

  const status = async (name: string): Promise<BundleStatus | undefined> => {
    const r = await admin(['bundle', 'status', name, '--json']);
    return r.exitCode === 0 ? (JSON.parse(r.stdout) as BundleStatus) : undefined;
  };
  const ready = (name: string) => async () => {
    const s = await status(name);
    if (s && s.clusters.length === 1 && s.clusters.every((c) => c.state === 'Ready')) return s;
    throw new Error(`${name}: ${JSON.stringify(s ?? 'no status')}`);
  };

  await t.test('a bundle applies and reaches Ready', async (t) => {
    const bundle = path.join(dir, 'bundle');
    fs.mkdirSync(bundle);
    fs.writeFileSync(path.join(bundle, 'fleet.yaml'), 'defaultNamespace: packaged\ncorrectDrift: {enabled: true}\n');
    const docs = ['apiVersion: v1\nkind: Namespace\nmetadata: {name: packaged}\n'];
    for (let i = 0; i < 20; i++) docs.push(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-${i}, namespace: packaged}\ndata: {index: "${i}"}\n`);
    fs.writeFileSync(path.join(bundle, 'objects.yaml'), docs.join('---\n'));
    const r = await admin(['bundle', 'apply', bundle, '--name', 'app', '--target', 'site=packaged']);
    t.equal(r.exitCode, 0, r.stderr);
    await waitFor('bundle app Ready', ready('app'), 90_000);
    const live = await kubectl(cluster.kubeconfig, ['-n', 'packaged', 'get', 'configmaps', '-o', 'name']);
    t.equal(live.out.split('\n').filter((l) => l.startsWith('configmap/cm-')).length, 20, 'all 20 ConfigMaps on the cluster');
  });

  await t.test('kubectl through the server proxy', async (t) => {
    const kc = await admin(['kubeconfig', connected.clusterId]);
    t.equal(kc.exitCode, 0, kc.stderr);
    const file = path.join(dir, 'proxy.kubeconfig');
    fs.writeFileSync(file, kc.stdout);
    const nodes = await waitFor('get nodes through the proxy', async () => {
      const r = await kubectl(file, ['get', 'nodes', '-o', 'name']);
      return r.code === 0 ? r.out : undefined;
    });
    t.match(nodes, /^node\//m, 'the kwok node, seen through the server');
    const cm = await kubectl(file, ['-n', 'packaged', 'get', 'configmap', 'cm-7', '-o', 'jsonpath={.data.index}']);
    t.equal(cm.out, '7', `a bundle's object read through the proxy (${cm.err})`);
    const created = await kubectl(file, ['-n', 'default', 'create', 'configmap', 'through-proxy', '--from-literal=a=b']);
    t.equal(created.code, 0, created.err);
  });

  await t.test('offline: drift corrected with the server down, reported after it is back', async (t) => {
    const port = server.port;
    await server.proc.stop();
    const del = await kubectl(cluster.kubeconfig, ['-n', 'packaged', 'delete', 'configmap', 'cm-3', '--wait=false']);
    t.equal(del.code, 0, del.err);
    const edit = await kubectl(cluster.kubeconfig, ['-n', 'packaged', 'patch', 'configmap', 'cm-4', '--type=merge', '-p', '{"data":{"index":"changed"}}']);
    t.equal(edit.code, 0, edit.err);
    await waitFor('cm-3 re-created and cm-4 restored with no server', async () => {
      const a = await kubectl(cluster.kubeconfig, ['-n', 'packaged', 'get', 'configmap', 'cm-3', '-o', 'jsonpath={.data.index}']);
      const b = await kubectl(cluster.kubeconfig, ['-n', 'packaged', 'get', 'configmap', 'cm-4', '-o', 'jsonpath={.data.index}']);
      return a.out === '3' && b.out === '4';
    }, 60_000);
    t.pass('both drifts corrected offline');
    server = await startServer(serverDir, port, serverEnv);
    await waitFor('bundle app Ready after reconnect', ready('app'), 60_000);
    // Ready was already stored before the outage: wait for the agent's outbox to deliver what it saw offline.
    const drift = await waitFor('the drift seen offline to reach the server', async () => {
      const ev = await admin(['bundle', 'events', 'app', '--cluster', 'edge-1', '--limit', '500', '--json']);
      if (ev.exitCode !== 0) throw new Error(ev.stderr);
      const events = JSON.parse(ev.stdout) as { state: string; message: string }[];
      return events.find((e) => e.state === 'Modified' && /cm-3/.test(e.message));
    }, 60_000);
    t.ok(drift, 'the drift seen offline reached the server');
  });

  await t.test('a node plan runs: file written, command run, result on the server', async (t) => {
    const out = path.join(dir, 'plan-out');
    const plan = path.join(dir, 'plan.yaml');
    fs.writeFileSync(plan, `apiVersion: drover.dev/v1
kind: Plan
metadata: {name: packaged}
files:
  - path: ${out}
    content: "from the packaged agent\\n"
instructions:
  - name: show
    command: /bin/sh
    args: ["-c", "cat ${out}"]
    timeout: 30s
    idempotent: true
`);
    const r = await admin(['plan', 'apply', plan, '--target', 'site=packaged']);
    t.equal(r.exitCode, 0, r.stderr);
    const s = await waitFor('plan packaged Succeeded', async () => {
      const st = await admin(['plan', 'status', 'packaged', '--json']);
      const p = st.exitCode === 0 ? (JSON.parse(st.stdout) as PlanStatus) : undefined;
      return p && p.nodes.length === 1 && p.nodes.every((n) => n.checksum === p.checksum && ['Succeeded', 'Failed', 'RolledBack'].includes(n.state)) ? p : undefined;
    }, 90_000);
    t.equal(s.nodes[0]?.state, 'Succeeded');
    t.equal(fs.readFileSync(out, 'utf8'), 'from the packaged agent\n');
    const node = JSON.parse((await admin(['node', 'get', connected.nodeId, '--json'])).stdout) as { plans: { name: string; steps: Record<string, { exitCode: number; output: string }> }[] };
    t.match(node.plans.find((p) => p.name === 'packaged')?.steps['instruction show'], { exitCode: 0, output: /from the packaged agent/ });
  });
});
