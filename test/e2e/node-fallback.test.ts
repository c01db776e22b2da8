// Issue 15 acceptance, fallback access: a real kube-apiserver (test/k8s/harness.ts), a real drover
// server, and one registered device running its cluster role and its node role as two processes
// (the systemd layout). With the cluster agent killed (SIGKILL), the built kubectl still reaches the
// cluster through the server, now through the node agent, which serves it with the cluster agent's
// own proxy code: the same impersonation, so Kubernetes RBAC still decides (a read-only user may
// read and is refused a delete, also when a global admin acts as that user with --as). `drover
// cluster get` names the path before and after.
import t from 'tap';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { agentStatus, createToken, drover, startAgent, startServer, waitFor, testDir } from './agent-helpers.ts';

t.test('fallback: kubectl through the node agent while the cluster agent is down, RBAC unchanged', async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const agentDir = path.join(dir, 'agent');
  const server = await startServer(serverDir);
  t.teardown(() => server.proc.stop());
  const admin = (...args: string[]) => drover([...args, '--data-dir', serverDir]);
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', await createToken(serverDir), '--name', 'site', '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, reg.stderr);
  const clusterAgent = startAgent(agentDir, ['--roles', 'cluster']);
  const nodeAgent = startAgent(agentDir, ['--roles', 'node']);
  t.teardown(() => Promise.all([clusterAgent.stop(), nodeAgent.stop()]).then(() => undefined));
  const { clusterId } = await waitFor('cluster and node roles connected', async () => {
    const s = await agentStatus(agentDir);
    return ['cluster', 'node'].every((r) => s.roles.find((x) => x.name === r)?.state === 'connected') ? s : undefined;
  });

  t.equal((await admin('user', 'create', 'rita')).exitCode, 0);
  t.equal((await admin('role', 'bind', 'rita', '--cluster', clusterId, '--role', 'read-only')).exitCode, 0);
  const kubeconfigFor = async (user?: string): Promise<string> => {
    const r = await admin('kubeconfig', clusterId, ...(user ? ['--user', user] : []));
    if (r.exitCode !== 0) throw new Error(r.stderr);
    const file = path.join(dir, `kc-${user ?? 'admin'}.yaml`);
    writeFileSync(file, r.stdout);
    return file;
  };
  const adminKc = await kubeconfigFor();
  const ritaKc = await kubeconfigFor('rita');
  const kubectl = (kc: string, ...args: string[]) => execa(tools.kubectl(), ['--kubeconfig', kc, '--cache-dir', path.join(dir, `cache-${path.basename(kc)}`), ...args], { reject: false, timeout: 60_000 });
  const access = async (): Promise<{ path: string; nodeId: string | null }> =>
    (JSON.parse((await admin('cluster', 'get', clusterId, '--json')).stdout) as { kubernetesAccess: { path: string; nodeId: string | null } }).kubernetesAccess;

  // Through the cluster agent first, until the read-only role has reached the cluster (RBAC sync).
  await waitFor('rita can list namespaces through the cluster agent', async () => (await kubectl(ritaKc, 'get', 'namespaces', '-o', 'name')).exitCode === 0, 60_000);
  t.equal((await access()).path, 'cluster-agent');
  t.equal((await kubectl(adminKc, 'create', 'namespace', 'fallback-demo')).exitCode, 0);

  await clusterAgent.stop('SIGKILL');
  const fallback = await waitFor('the server to route through the node agent', async () => {
    const a = await access();
    return a.path === 'node-agent' ? a : undefined;
  });
  t.equal(fallback.nodeId, (await agentStatus(agentDir)).nodeId, 'the node agent of this device');
  t.match((await admin('cluster', 'get', clusterId)).stdout, /api access:\s+through the node agent on \S+ \(fallback: the cluster agent is not connected\)/);

  const before = nodeAgent.logs().filter((l) => l.msg === 'kube request').length;
  const ns = await kubectl(adminKc, 'get', 'namespaces', '-o', 'name');
  t.equal(ns.exitCode, 0, String(ns.stderr));
  t.match(String(ns.stdout), /namespace\/fallback-demo/, 'kubectl get works with the cluster agent dead');
  await waitFor('the node agent to have served it', () => nodeAgent.logs().filter((l) => l.msg === 'kube request').length > before);
  t.ok(!clusterAgent.running, 'the cluster agent is really gone');

  const ritaGet = await kubectl(ritaKc, 'get', 'namespace', 'fallback-demo', '-o', 'name');
  t.equal(ritaGet.exitCode, 0, `read-only may read through the fallback (${String(ritaGet.stderr)})`);
  const ritaDelete = await kubectl(ritaKc, 'delete', 'namespace', 'fallback-demo', '--wait=false');
  t.not(ritaDelete.exitCode, 0, 'read-only is refused a delete through the fallback');
  t.match(String(ritaDelete.stderr), /forbidden: User "drover:user:rita" cannot delete resource "namespaces"/);
  const asRita = await kubectl(adminKc, '--as', 'rita', 'delete', 'namespace', 'fallback-demo', '--wait=false');
  t.match(String(asRita.stderr), /forbidden: User "drover:user:rita" cannot delete/, 'an admin acting as rita gets rita\'s answer');
  const still = await kubectl(adminKc, 'get', 'namespace', 'fallback-demo', '-o', 'jsonpath={.status.phase}');
  t.equal(String(still.stdout), 'Active', 'the namespace is still there');

  // The cluster agent comes back: the server prefers it again.
  const again = startAgent(agentDir, ['--roles', 'cluster']);
  t.teardown(() => again.stop());
  await waitFor('the cluster agent path again', async () => (await access()).path === 'cluster-agent');
  await nodeAgent.stop();
  t.equal((await kubectl(adminKc, 'get', 'namespace', 'fallback-demo', '-o', 'name')).exitCode, 0, 'served by the cluster agent with the node agent gone');
});
