// Issue 4 acceptance: the cluster role reports the Kubernetes version and node count of the
// cluster its kubeconfig names, read with @kubernetes/client-node from a real control plane
// (test/k8s harness: etcd + kube-apiserver + kwok nodes); the server shows them in `cluster list`.
import t from 'tap';
import path from 'node:path';
import { CoreV1Api, KubeConfig, VersionApi } from '@kubernetes/client-node';
import { startCluster } from '../k8s/harness.ts';
import { agentStatus, clusterGet, clusterList, createToken, drover, startAgent, startServer, waitFor, testDir } from './agent-helpers.ts';

t.test('cluster role: Kubernetes version and node count reach the server', async (t) => {
  const cluster = await startCluster({ nodes: 2 });
  t.teardown(() => cluster.stop());
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const version = (await kc.makeApiClient(VersionApi).getCode()).gitVersion;
  const nodeCount = (await kc.makeApiClient(CoreV1Api).listNode()).items.length;
  t.ok(nodeCount >= 2, `the harness has ${nodeCount} nodes`);

  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const agentDir = path.join(dir, 'agent');
  const server = await startServer(serverDir);
  t.teardown(() => server.proc.stop());
  const token = await createToken(serverDir, ['--labels', 'k8s=harness']);
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, reg.stderr);
  const agent = startAgent(agentDir, ['--roles', 'cluster']);
  t.teardown(() => agent.stop());

  const status = await waitFor('cluster role connected', async () => {
    const s = await agentStatus(agentDir);
    return s.roles.find((r) => r.name === 'cluster')?.state === 'connected' ? s : undefined;
  });
  const listed = await waitFor('kubernetesVersion in cluster list', async () =>
    (await clusterList(serverDir)).find((c) => c.id === status.clusterId && c.kubernetesVersion !== null));
  t.equal(listed.kubernetesVersion, version, `cluster list shows ${version}`);
  t.equal(listed.state, 'Connected');
  const detail = JSON.stringify(await clusterGet(serverDir, status.clusterId));
  t.match(detail, `"nodeCount":${nodeCount}`, `the facts carry the cluster's ${nodeCount} nodes`);
});
