// Issue 6 acceptance on one harness cluster, through `drover server` and `drover agent run --roles
// fleet`: kill -9 of the agent in the middle of applying a 200-object bundle completes on restart;
// a revision that drops objects prunes them, keepResources keeps them; a 20 MiB bundle is pushed,
// delivered over the tunnel and applied.
import t from 'tap';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { agentStatus, createToken, drover, startAgent, startServer, waitFor, testDir } from './agent-helpers.ts';
import { fleetServerEnv, FLEET_AGENT_ENV } from './fleet-helpers.ts';

const cm = (name: string, data: string, ns = 'crash'): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${ns}}\ndata: {v: "${data}"}\n---\n`;

function writeDir(dir: string, files: Record<string, string>): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
}

t.test('fleet agent: kill -9 mid-apply, prune and keepResources, a 20 MiB bundle', async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const server = await startServer(serverDir, 0, fleetServerEnv());
  t.teardown(() => server.proc.stop());
  const agentDir = path.join(dir, 'agent');
  const token = await createToken(serverDir, ['--labels', 'env=edge']);
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', 'site', '--labels', 'env=edge', '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, reg.exitCode === 0 ? 'registered' : reg.stderr);
  const env = { ...FLEET_AGENT_ENV };
  let agent = startAgent(agentDir, ['--roles', 'fleet'], env);
  t.teardown(() => agent.stop());
  await waitFor('fleet tunnel', async () => (await agentStatus(agentDir)).roles.find((r) => r.name === 'fleet')?.state === 'connected');

  const kubectl = async (args: string[]) => {
    const r = await execa(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args], { reject: false, timeout: 60_000 });
    return { code: r.exitCode ?? -1, out: String(r.stdout) };
  };
  const count = async (ns: string) => (await kubectl(['-n', ns, 'get', 'configmaps', '-l', '!nonexistent', '-o', 'name'])).out.split('\n').filter((l) => l.startsWith('configmap/') && !l.endsWith('kube-root-ca.crt')).length;
  const apply = async (d: string, name: string) => {
    const r = await drover(['bundle', 'apply', d, '--name', name, '--data-dir', serverDir]);
    if (r.exitCode !== 0) throw new Error(`apply ${name}: ${r.stderr}`);
  };
  const ready = (name: string) => async () => {
    const r = await drover(['bundle', 'status', name, '--json', '--data-dir', serverDir]);
    const s = r.exitCode === 0 ? (JSON.parse(r.stdout) as { clusters: { state: string; message: string }[] }) : undefined;
    if (s && s.clusters.length === 1 && s.clusters[0]?.state === 'Ready') return s;
    throw new Error(`${name}: ${r.stdout}${r.stderr}`);
  };

  await t.test('kill -9 in the middle of a 200-object apply: the restarted agent completes it', async (t) => {
    const d = path.join(dir, 'b200');
    let objects = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: crash}\n---\n';
    for (let i = 0; i < 199; i++) objects += cm(`c${String(i).padStart(3, '0')}`, `value-${i}`);
    writeDir(d, { 'all.yaml': objects });
    await apply(d, 'b200');
    const seen = await waitFor('the apply to begin', async () => {
      const n = await count('crash').catch(() => 0);
      return n > 0 ? n : undefined;
    }, 60_000, );
    agent.signal('SIGKILL');
    await agent.wait();
    const atKill = await count('crash');
    t.comment(`killed with ${seen} (then ${atKill}) of 199 ConfigMaps applied`);
    agent = startAgent(agentDir, ['--roles', 'fleet'], env);
    await waitFor('all 199 ConfigMaps', async () => (await count('crash')) === 199, 120_000);
    await waitFor('b200 Ready', ready('b200'), 120_000);
    t.pass('completed without manual action');
  });

  await t.test('a revision that drops objects prunes them; keepResources keeps them', async (t) => {
    const p = path.join(dir, 'prune');
    writeDir(p, { 'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: prune}\n', 'a.yaml': cm('a', '1', 'prune'), 'b.yaml': cm('b', '1', 'prune') });
    await apply(p, 'prune');
    await waitFor('a and b', async () => (await count('prune')) === 2, 60_000);
    writeDir(p, { 'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: prune}\n', 'a.yaml': cm('a', '2', 'prune') });
    await apply(p, 'prune');
    await waitFor('b pruned', async () => (await kubectl(['-n', 'prune', 'get', 'configmap', 'b'])).code === 1, 60_000);
    t.equal((await kubectl(['-n', 'prune', 'get', 'configmap', 'a', '-o', 'jsonpath={.data.v}'])).out, '2', 'a updated');

    const k = path.join(dir, 'keep');
    writeDir(k, { 'fleet.yaml': 'keepResources: true\n', 'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: keep}\n', 'a.yaml': cm('a', '1', 'keep'), 'b.yaml': cm('b', '1', 'keep') });
    await apply(k, 'keep');
    await waitFor('keep Ready', ready('keep'), 60_000);
    writeDir(k, { 'fleet.yaml': 'keepResources: true\n', 'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: keep}\n', 'a.yaml': cm('a', '2', 'keep') });
    await apply(k, 'keep');
    await waitFor('a at 2', async () => (await kubectl(['-n', 'keep', 'get', 'configmap', 'a', '-o', 'jsonpath={.data.v}'])).out === '2', 60_000);
    await waitFor('keep Ready again', ready('keep'), 60_000);
    t.equal((await kubectl(['-n', 'keep', 'get', 'configmap', 'b'])).code, 0, 'b kept');
  });

  await t.test('a 20 MiB bundle is delivered and applied', async (t) => {
    const big = path.join(dir, 'big');
    const files: Record<string, string> = { 'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: big}\n' };
    // 22 ConfigMaps just under 1 MiB each (the apiserver's object limit): 21+ MiB, incompressible.
    for (let i = 0; i < 22; i++) files[`cm${i}.yaml`] = cm(`big${i}`, randomBytes(700 * 1024).toString('base64').slice(0, 950 * 1024), 'big');
    writeDir(big, files);
    await apply(big, 'big');
    await waitFor('big Ready', ready('big'), 240_000);
    t.equal(await count('big'), 22, 'every ConfigMap applied');
    const st = await agentStatus(agentDir);
    t.ok((st.bundles as { name: string; state: string }[]).some((b) => b.name === 'big' && b.state === 'Ready'), 'agent status shows it Ready');

    // One ConfigMap changes: the agent holds the previous revision, so only the change travels.
    files['cm3.yaml'] = cm('big3', 'changed', 'big');
    writeDir(big, files);
    await apply(big, 'big');
    await waitFor('the changed ConfigMap is live', async () => (await kubectl(['-n', 'big', 'get', 'configmap', 'big3', '-o', 'jsonpath={.data.v}'])).out === 'changed', 120_000);
    await waitFor('big Ready again', ready('big'), 120_000);
    const deliveries = server.proc.logs().filter((l) => l.msg === 'deployment delivered' && l.bundle === 'big');
    t.equal(deliveries.length, 2, 'two deliveries of big');
    t.match(deliveries[0], { delta: false }, 'the first is the whole set');
    t.ok(Number(deliveries[0]?.bytes) > 20 * 1024 * 1024, `the whole set is over 20 MiB (${deliveries[0]?.bytes} bytes)`);
    t.match(deliveries[1], { delta: true }, 'the second is a delta');
    t.ok(Number(deliveries[1]?.bytes) < 64 * 1024, `the delta is small (${deliveries[1]?.bytes} bytes)`);
    t.equal(await count('big'), 22, 'nothing else changed');
  });
});
