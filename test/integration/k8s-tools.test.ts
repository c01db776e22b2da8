// Foundation acceptance: the built kubectl, helm and kustomize work against the harness and on
// the fixtures in test/fixtures/ (no network: the chart and overlay are local).
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { startCluster, tools } from '../k8s/harness.ts';

const run = promisify(execFile);
const fixtures = join(import.meta.dirname, '..', 'fixtures');

t.test('kubectl: get --raw /version and apply -f against the harness', async (t) => {
  const cluster = await startCluster();
  t.teardown(() => cluster.stop());
  const kubectl = (...args: string[]) => run(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args]);

  const version = JSON.parse((await kubectl('get', '--raw', '/version')).stdout) as { gitVersion: string };
  t.equal(version.gitVersion, cluster.version, 'the apiserver reports the version it was built as');

  const applied = await kubectl('apply', '-f', join(fixtures, 'manifests', 'web.yaml'));
  t.match(applied.stdout, /namespace\/fixture-web created/);
  t.match(applied.stdout, /deployment.apps\/web created/);
  const again = await kubectl('apply', '-f', join(fixtures, 'manifests', 'web.yaml'));
  t.match(again.stdout, /deployment.apps\/web unchanged/, 'apply is idempotent');
  await kubectl('wait', '--for=condition=Available', '--timeout=60s', '-n', 'fixture-web', 'deployment/web');
  const got = JSON.parse((await kubectl('get', 'deployment', 'web', '-n', 'fixture-web', '-o', 'json')).stdout) as { status: { readyReplicas?: number } };
  t.equal(got.status.readyReplicas, 2, 'both replicas ready');
});

t.test('helm template renders the fixture chart with values', async (t) => {
  const { stdout } = await run(tools.helm(), ['template', 'demo', join(fixtures, 'chart', 'hello'), '--set', 'replicas=3', '--set', 'message=hi edge']);
  t.match(stdout, /name: demo-hello/);
  t.match(stdout, /replicas: 3/);
  t.match(stdout, /value: "hi edge"/);
});

t.test('helm template fails clearly on a missing chart', async (t) => {
  await t.rejects(run(tools.helm(), ['template', 'demo', join(fixtures, 'chart', 'missing')]), /missing|not found|no such/i);
});

t.test('kustomize build applies the overlay', async (t) => {
  const { stdout } = await run(tools.kustomize(), ['build', join(fixtures, 'kustomize', 'overlays', 'edge')]);
  t.match(stdout, /name: edge-site-config/);
  t.match(stdout, /tier: edge/);
  t.match(stdout, /drover.test\/overlay: edge/);
  t.notMatch(stdout, /tier: base/);
});
