// Fleet rendering with the real `kustomize` (built by the harness): a base for most clusters, an
// overlay picked per target with kustomize.dir, and a broken kustomization reported with its error.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { tools } from '../k8s/harness.ts';
import { discoverBundles } from '../../server-lite/fleet/discovery.ts';
import { renderBundle } from '../../server-lite/fleet/render-bundle.ts';
import { resolveTargets, type ClusterInfo } from '../../server-lite/fleet/targeting.ts';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'drover-fleet-kust-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const clusters: ClusterInfo[] = [
  { id: 'c-edge-1', name: 'edge-1', labels: { env: 'edge' } },
  { id: 'c-core', name: 'core', labels: { env: 'core' } },
];

const files = {
  'kustomization.yaml': 'resources: [base]\n',
  'base/kustomization.yaml': 'resources: [cm.yaml]\nlabels: [{ pairs: { tier: base } }]\n',
  'base/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: site-config }\ndata: { mode: base }\n',
  'overlays/edge/kustomization.yaml': 'resources: [../../base]\nnamePrefix: edge-\npatches:\n  - patch: |-\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: { name: site-config }\n      data: { mode: edge }\n',
};

t.test('kustomize render: root kustomization by default, kustomize.dir per target; default namespace applied', async (t) => {
  const dir = tree({
    ...files,
    'fleet.yaml': 'defaultNamespace: sites\ntargetCustomizations:\n  - name: edge\n    clusterSelector: { matchLabels: { env: edge } }\n    kustomize: { dir: overlays/edge }\n',
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [bundle] = await discoverBundles(dir, { prefix: 'sites' });
  if (!bundle) throw new Error('no bundle');
  const rendered = await renderBundle(bundle, resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters, groups: [] }).deployments, tools);
  const byId = new Map(rendered.map((r) => [r.clusterId, r]));
  t.equal(byId.get('c-core')?.renderer, 'kustomize');
  t.same(byId.get('c-core')?.set.objects.map((o) => [o.id, (o.object.data as { mode: string }).mode]), [['/ConfigMap/sites/site-config', 'base']]);
  t.same(byId.get('c-edge-1')?.set.objects.map((o) => [o.id, (o.object.data as { mode: string }).mode]), [['/ConfigMap/sites/edge-site-config', 'edge']]);
});

t.test('kustomize render: a broken kustomization is KUSTOMIZE_RENDER_FAILED with kustomize\'s message', async (t) => {
  const dir = tree({ 'kustomization.yaml': 'resources: [missing.yaml]\n', 'fleet.yaml': '' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [bundle] = await discoverBundles(dir, { prefix: 'broken' });
  if (!bundle) throw new Error('no bundle');
  await t.rejects(renderBundle(bundle, resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters, groups: [] }).deployments, tools), {
    code: 'KUSTOMIZE_RENDER_FAILED',
    message: /bundle broken, target core: kustomize build .*missing\.yaml/s,
  });
});

t.test('kustomize render: kustomize.dir outside the bundle is refused before kustomize runs', async (t) => {
  const dir = tree({ ...files, 'fleet.yaml': 'kustomize: { dir: ../.. }\n' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [bundle] = await discoverBundles(dir, { prefix: 'esc' });
  if (!bundle) throw new Error('no bundle');
  await t.rejects(renderBundle(bundle, resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters, groups: [] }).deployments, tools), {
    code: 'PATH_ESCAPES_BUNDLE',
  });
});
