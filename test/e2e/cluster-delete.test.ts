// Issue 24, on real clusters: `drover cluster delete` with one cluster online and one offline.
// The online one cleans up at once (Drover's RBAC and its bundle objects gone), the offline one
// when its agent comes back (RBAC gone, workloads kept as asked); both agents stop with
// CLUSTER_DELETED, their old credentials are refused, and a deleted cluster joins again with a new
// token. Real kube-apiservers, real kubectl, the real CLI and agents.
import t from 'tap';
import path from 'node:path';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { startCluster, tools, type TestCluster } from '../k8s/harness.ts';
import { agentStatus, createToken, drover, startAgent, startServer, waitFor, type Proc, type ServerProc, testDir } from './agent-helpers.ts';
import { FLEET_AGENT_ENV, fleetServerEnv } from './fleet-helpers.ts';

interface Site {
  id: string;
  dir: string;
  cluster: TestCluster;
  agent: Proc;
  credential: string;
}

async function join(server: ServerProc, dir: string, name: string, cluster: TestCluster): Promise<Site> {
  const token = await createToken(server.dataDir, ['--labels', 'site=edge']);
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', name, '--labels', 'site=edge', '--kubeconfig', cluster.kubeconfig, '--data-dir', dir]);
  if (reg.exitCode !== 0) throw new Error(`register ${name}: ${reg.stderr}`);
  const agent = startAgent(dir, ['--roles', 'cluster,node,fleet'], { ...FLEET_AGENT_ENV });
  const s = await waitFor(`${name} connected`, async () => {
    const st = await agentStatus(dir);
    return st.roles.length === 3 && st.roles.every((r) => r.state === 'connected') ? st : undefined;
  });
  return { id: s.clusterId, dir, cluster, agent, credential: credentialIn(dir) };
}

/** The agent's exit code, or a failure showing its output when it does not exit in time. */
async function exitOf(p: Proc, ms = 120_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`agent still running after ${ms} ms: ${p.output.slice(-3000)}`)), ms);
  });
  try {
    return await Promise.race([p.wait(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The agent's credential as stored (read before the delete, to try it afterwards). */
function credentialIn(dir: string): string {
  const db = new Database(path.join(dir, 'agent.db'), { readonly: true });
  try {
    return String((db.prepare('SELECT credential FROM identity').get() as { credential: string }).credential);
  } finally {
    db.close();
  }
}

t.test('cluster delete: one cluster online, one offline, both cleaned up; re-registration works', async (t) => {
  const [ca, cb] = await Promise.all([startCluster({ nodes: 1 }), startCluster({ nodes: 1 })]);
  t.teardown(() => Promise.all([ca.stop(), cb.stop()]).then(() => undefined));
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const server = await startServer(serverDir, 0, fleetServerEnv());
  t.teardown(() => server.proc.stop());
  const admin = (args: string[]) => drover([...args, '--data-dir', serverDir]);
  const kubectl = (c: TestCluster, args: string[]) => execa(tools.kubectl(), ['--kubeconfig', c.kubeconfig, ...args], { reject: false, timeout: 60_000 });
  const droverRbac = async (c: TestCluster): Promise<string[]> => {
    const r = await kubectl(c, ['get', 'clusterroles,clusterrolebindings,rolebindings', '-A', '-l', 'app.kubernetes.io/managed-by=drover', '-o', 'name']);
    if (r.exitCode !== 0) throw new Error(String(r.stderr));
    return String(r.stdout).split('\n').filter((l) => l.includes('drover-'));
  };

  const [a, b] = await Promise.all([join(server, path.join(dir, 'agent-a'), 'site-a', ca), join(server, path.join(dir, 'agent-b'), 'site-b', cb)]);
  t.teardown(() => Promise.all([a.agent.stop(), b.agent.stop()]).then(() => undefined));
  t.equal((await admin(['user', 'create', 'bob'])).exitCode, 0);
  for (const s of [a, b]) t.equal((await admin(['role', 'bind', 'bob', '--cluster', s.id, '--role', 'cluster-member'])).exitCode, 0);
  const bundle = path.join(dir, 'bundle');
  mkdirSync(bundle);
  writeFileSync(path.join(bundle, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-settings, namespace: default}\ndata: {v: "1"}\n');
  t.equal((await admin(['bundle', 'apply', bundle, '--name', 'web', '--target', 'site=edge'])).exitCode, 0);
  for (const s of [a, b]) {
    await waitFor('the bundle object on the cluster', async () => (await kubectl(s.cluster, ['get', 'configmap', 'web-settings'])).exitCode === 0, 120_000);
    await waitFor("bob's RBAC on the cluster", async () => (await droverRbac(s.cluster)).some((n) => n.includes('clusterrolebinding') && n.includes('drover-cluster-member')), 60_000);
  }

  // B goes offline; then both are deleted: A (online) with its workloads, B (offline) keeping them.
  await b.agent.stop();
  const delA = await admin(['cluster', 'delete', a.id]);
  t.equal(delA.exitCode, 0, delA.stderr);
  t.match(delA.stdout, /1 connected agent\(s\) are cleaning up now, 0 offline/);
  const delB = await admin(['cluster', 'delete', b.id, '--keep-workloads', '--uninstall-agents', '--json']);
  t.equal(delB.exitCode, 0, delB.stderr);
  t.match(JSON.parse(delB.stdout), { id: b.id, keepWorkloads: true, uninstallAgents: true, agents: [{ connected: false }] });
  const listed = JSON.parse((await admin(['cluster', 'list', '--json'])).stdout) as { id: string }[];
  t.same(listed.map((c) => c.id), [], 'both clusters gone from the registry at once');
  t.equal((await admin(['cluster', 'get', a.id])).exitCode, 1, 'cluster get: not found');
  t.equal((await admin(['cluster', 'delete', a.id])).exitCode, 1, 'deleting it again: not found');

  // A cleans up now and stops with CLUSTER_DELETED (exit 4).
  t.equal(await exitOf(a.agent), 4, 'agent A exits 4');
  t.match(a.agent.output, /CLUSTER_DELETED: .*removed Drover's RBAC \(\d+ object\(s\)\); removed the objects of 1 bundle\(s\)/);
  t.same(await droverRbac(ca), [], "A: Drover's RBAC removed");
  t.not((await kubectl(ca, ['get', 'configmap', 'web-settings'])).exitCode, 0, 'A: bundle object removed');
  t.match((await drover(['agent', 'status', '--data-dir', a.dir])).stderr, /NOT_REGISTERED|not registered/i, 'A: identity forgotten');

  // B comes back: cleans up RBAC, keeps the ConfigMap, stops.
  t.ok((await droverRbac(cb)).length > 0, 'B: RBAC still there while offline');
  // The installed uninstaller is stood in for by a script (no systemd here): it records its arguments.
  const uninstaller = path.join(dir, 'drover-uninstall.sh');
  const ran = path.join(dir, 'uninstalled');
  writeFileSync(uninstaller, `#!/bin/sh\necho "$@" > ${ran}\n`, { mode: 0o755 });
  const back = startAgent(b.dir, ['--roles', 'cluster,node,fleet'], { ...FLEET_AGENT_ENV, DROVER_UNINSTALLER: uninstaller });
  t.teardown(() => back.stop());
  t.equal(await exitOf(back), 4, 'agent B exits 4 after cleaning up');
  t.match(back.output, /removed Drover's RBAC \(\d+ object\(s\)\); released 1 bundle\(s\), their objects kept/);
  t.same(await droverRbac(cb), [], "B: Drover's RBAC removed");
  t.equal((await kubectl(cb, ['get', 'configmap', 'web-settings'])).exitCode, 0, 'B: workload kept (--keep-workloads)');
  t.equal((await waitFor('the uninstaller ran', () => existsSync(ran) && readFileSync(ran, 'utf8'))).trim(), '--remove-state', 'B: uninstalled itself (--uninstall-agents)');

  // Old credentials: the clean-up was reported, so nothing accepts them any more.
  for (const s of [a, b]) {
    const curl = await execa('curl', ['-s', '--cacert', path.join(serverDir, 'tls', 'ca.crt'), '-H', `Authorization: Bearer ${s.credential}`, `${server.url}/v1/agent/rotate`, '-X', 'POST', '-d', '{}', '-H', 'content-type: application/json'], { reject: false });
    t.match(curl.stdout, /CREDENTIAL_INVALID/, `old credential of ${s.id} refused`);
  }

  // A joins again with a new token, into a new cluster.
  const again = await join(server, a.dir, 'site-a', ca);
  t.not(again.id, a.id, 'a new cluster id');
  t.teardown(() => again.agent.stop());
  await waitFor('the bundle back on A', async () => (await kubectl(ca, ['get', 'configmap', 'web-settings'])).exitCode === 0, 120_000);

  const audit = await admin(['audit', 'list', '--json']);
  t.match(audit.stdout, new RegExp(`"verb":"delete","path":"/v1/clusters/${a.id}"`), 'the delete is audited');
});
