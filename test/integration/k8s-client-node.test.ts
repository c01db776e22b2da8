// Foundation acceptance: @kubernetes/client-node against a real harness control plane. A
// Deployment with 2 replicas must get both pods Running and become Available (kwok plays the
// kubelets, the real controller-manager and scheduler do the rest), then deletes cleanly.
import t from 'tap';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { startCluster } from '../k8s/harness.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

t.test('harness: a Deployment with 2 replicas becomes Available with both pods Running', async (t) => {
  const cluster = await startCluster();
  t.teardown(() => cluster.stop());
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);

  const nodes = await core.listNode();
  t.ok(nodes.items.length >= 2, 'at least two (kwok) nodes');

  const namespace = 'harness-demo';
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const deployment: V1Deployment = {
    metadata: { name: 'web', namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.example/web:1.0' }] } },
    },
  };
  await apps.createNamespacedDeployment({ namespace, body: deployment });

  const running = await until('2 Running pods', async () => {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=web' });
    const up = pods.items.filter((p) => p.status?.phase === 'Running');
    return up.length === 2 ? up : undefined;
  });
  t.equal(running.length, 2, 'both pods Running');
  t.not(running[0]?.spec?.nodeName, undefined, 'pods were scheduled onto nodes');

  const available = await until('Deployment Available', async () => {
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace });
    return d.status?.conditions?.find((c) => c.type === 'Available' && c.status === 'True');
  });
  t.equal(available.status, 'True', 'Deployment Available');

  await apps.deleteNamespacedDeployment({ name: 'web', namespace });
  await until('pods gone', async () => {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=web' });
    return pods.items.length === 0 ? true : undefined;
  });
  await core.deleteNamespace({ name: namespace });
  t.pass('deployment and its pods deleted');
});
