// Issue 23, on real clusters: a Fleet repository as a Fleet user keeps it — Fleet's template
// fleet.yaml with empty values and a comment-only section, a chart whose targets each run their
// kustomize overlay over the chart's output — deploys unchanged onto two clusters labelled env=dev
// and env=prod, each getting its own overlay (the rendering itself is compared with
// `helm template | kustomize build` by hand in test/integration/fleet-render-helm-kustomize.test.ts).
// Every object names its bundle, and relabelling a cluster moves it to the other overlay.
import t from 'tap';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { startCluster, tools, type TestCluster } from '../k8s/harness.ts';
import { drover, startServer, waitFor, testDir } from './agent-helpers.ts';
import { agentDirIn, fleetServerEnv, joinFleetAgent } from './fleet-helpers.ts';

const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'bundles', 'helm-kustomize');

t.test('fleet compat: Helm + kustomize per environment, deployed unchanged onto two clusters', async (t) => {
  const [cdev, cprod] = await Promise.all([startCluster({ nodes: 1 }), startCluster({ nodes: 1 })]);
  t.teardown(() => Promise.all([cdev.stop(), cprod.stop()]).then(() => undefined));
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const server = await startServer(serverDir, 0, fleetServerEnv());
  t.teardown(() => server.proc.stop());
  const join = (c: TestCluster, name: string, labels: string) => joinFleetAgent(server, { dir: agentDirIn(dir, name), name, labels, kubeconfig: c.kubeconfig });
  const [dev, prod] = await Promise.all([join(cdev, 'dev-1', 'env=dev'), join(cprod, 'prod-1', 'env=prod')]);
  t.teardown(() => Promise.all([dev.agent.stop(), prod.agent.stop()]).then(() => undefined));
  const admin = (args: string[]) => drover([...args, '--data-dir', serverDir]);
  const kubectl = async (c: { kubeconfig: string }, args: string[]) => {
    const r = await execa(tools.kubectl(), ['--kubeconfig', c.kubeconfig, '-n', 'shop', ...args], { reject: false, timeout: 60_000 });
    return r.exitCode === 0 ? String(r.stdout) : undefined;
  };

  const applied = await admin(['bundle', 'apply', FIXTURE, '--name', 'shop']);
  t.equal(applied.exitCode, 0, applied.stderr);
  t.notMatch(applied.stderr, /warning/, "Fleet's template with empty values reads without a warning");
  await waitFor('shop Ready on both clusters', async () => {
    const r = await admin(['bundle', 'status', 'shop', '--json']);
    const s = r.exitCode === 0 ? (JSON.parse(r.stdout) as { clusters: { id: string; state: string }[] }) : undefined;
    return s?.clusters.length === 2 && s.clusters.every((c) => c.state === 'Ready') ? s : undefined;
  }, 120_000);

  t.equal(await kubectl(cdev, ['get', 'configmap', 'shop-settings', '-o', 'jsonpath={.data.tier}']), 'dev', 'dev: the dev overlay patched the chart output');
  t.equal(await kubectl(cdev, ['get', 'configmap', 'shop-settings', '-o', 'jsonpath={.data.greeting}']), 'hello from fleet.yaml', "fleet.yaml's values reached the chart");
  t.equal(await kubectl(cdev, ['get', 'poddisruptionbudget', 'shop']), undefined, 'dev: no PodDisruptionBudget');
  t.equal(await kubectl(cprod, ['get', 'deployment', 'shop-shop', '-o', 'jsonpath={.spec.replicas}']), '3', 'prod: the prod overlay scaled the Deployment');
  t.ok(await kubectl(cprod, ['get', 'poddisruptionbudget', 'shop']), "prod: the overlay's own resource is there");
  t.equal(await kubectl(cprod, ['get', 'deployment', 'shop-shop', '-o', 'jsonpath={.metadata.labels.env}']), 'prod');
  const listed = await kubectl(cprod, ['get', 'deployment,configmap,poddisruptionbudget', '-l', 'drover.dev/bundle=shop', '-o', 'name']);
  t.same(listed?.trim().split('\n').sort(), ['configmap/shop-settings', 'deployment.apps/shop-shop', 'poddisruptionbudget.policy/shop'], 'kubectl get -l drover.dev/bundle=shop lists the bundle');

  // Real Fleet options Drover does not implement: deployed, with a warning saying what Drover does
  // instead (they used to be refused as typos); one that would change the content is refused.
  const opts = path.join(dir, 'opts');
  mkdirSync(opts);
  writeFileSync(path.join(opts, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: opts}\ndata: {v: "1"}\n');
  writeFileSync(path.join(opts, 'fleet.yaml'), 'defaultNamespace: shop\nnamespaceLabels: {team: a}\nhelm:\n  force: true\n  timeoutSeconds: 60\n');
  const warned = await admin(['bundle', 'apply', opts, '--name', 'opts', '--target', 'env=prod']);
  t.equal(warned.exitCode, 0, warned.stderr);
  t.match(warned.stderr, /warning: .*"namespaceLabels" is ignored: [\s\S]*"helm\.force" is ignored: [\s\S]*"helm\.timeoutSeconds" is ignored: /);
  await waitFor('opts live on prod', async () => (await kubectl(cprod, ['get', 'configmap', 'opts'])) !== undefined, 60_000);
  writeFileSync(path.join(opts, 'fleet.yaml'), 'defaultNamespace: shop\nhelm:\n  valuesFrom: [{configMapKeyRef: {name: v}}]\n');
  const refused = await admin(['bundle', 'apply', opts, '--name', 'opts', '--target', 'env=prod']);
  t.equal(refused.exitCode, 1);
  t.match(refused.stderr, /FLEET_YAML_UNSUPPORTED.*helm\.valuesFrom/);

  // dev-1 becomes a prod cluster: the prod overlay lands there, with no new commit or apply.
  t.equal((await admin(['cluster', 'label', dev.id, 'env=prod'])).exitCode, 0);
  await waitFor('dev-1 runs the prod overlay', async () => {
    const replicas = await kubectl(cdev, ['get', 'deployment', 'shop-shop', '-o', 'jsonpath={.spec.replicas}']);
    if (replicas === '3') return true;
    // Thrown, so the timeout message shows where it is stuck.
    throw new Error(`replicas ${replicas}; ${(await admin(['bundle', 'status', 'shop', '--json'])).stdout}`);
  }, 120_000);
  await waitFor('and the PodDisruptionBudget', async () => (await kubectl(cdev, ['get', 'poddisruptionbudget', 'shop'])) !== undefined, 60_000);
  t.pass('relabelled cluster moved to the other overlay');
});
