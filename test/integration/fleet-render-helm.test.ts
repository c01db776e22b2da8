// Fleet rendering with the real `helm` (built by the harness): per-target values in Fleet's
// precedence, cluster labels in values, a failing chart reported with helm's own error and no result.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { tools } from '../k8s/harness.ts';
import { discoverBundles } from '../../server-lite/fleet/discovery.ts';
import { renderBundle } from '../../server-lite/fleet/render-bundle.ts';
import { resolveTargets, type ClusterInfo } from '../../server-lite/fleet/targeting.ts';
import { toolsAt } from '../../server-lite/fleet/tools.ts';
import type { JsonObject } from '../../server-lite/fleet/manifest-set.ts';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'drover-fleet-helm-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const chart = {
  'chart/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 0.1.0\n',
  'chart/values.yaml': 'replicas: 5\ncolor: chart-default\nmessage: from-chart\nsite: none\nexplode: false\n',
  'chart/templates/deployment.yaml': `{{- if .Values.explode }}{{ fail "the chart refuses explode=true" }}{{ end }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: "registry.local/web:1" }] }
`,
  'chart/templates/configmap.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
  namespace: {{ .Release.Namespace }}
data:
  color: {{ .Values.color | quote }}
  message: {{ .Values.message | quote }}
  site: {{ .Values.site | quote }}
  clusterEnv: {{ .Values.global.fleet.clusterLabels.env | quote }}
`,
  'values-file.yaml': 'color: from-values-file\n',
};

const clusters: ClusterInfo[] = [
  { id: 'c-edge-1', name: 'edge-1', labels: { env: 'edge' } },
  { id: 'c-edge-2', name: 'edge-2', labels: { env: 'edge' } },
  { id: 'c-core', name: 'core', labels: { env: 'core' } },
];

const find = (objs: { object: JsonObject }[], kind: string) => objs.find((o) => o.object.kind === kind)?.object;

t.test('helm render: values precedence chart < fleet.yaml values < valuesFiles < customization; cluster labels reach the chart', async (t) => {
  const dir = tree({
    ...chart,
    'fleet.yaml': `defaultNamespace: web
helm:
  chart: ./chart
  releaseName: web
  values: { replicas: 2, color: from-fleet-yaml, site: "site-\${ .ClusterLabels.env }" }
  valuesFiles: [values-file.yaml]
targetCustomizations:
  - name: edge
    clusterSelector: { matchLabels: { env: edge } }
    helm: { values: { replicas: 1 } }
`,
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [bundle] = await discoverBundles(dir, { prefix: 'web' });
  if (!bundle) throw new Error('no bundle');
  const targets = resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters, groups: [] });
  const rendered = await renderBundle(bundle, targets.deployments, tools);
  t.same(rendered.map((r) => [r.clusterId, r.renderer]), [['c-core', 'helm'], ['c-edge-1', 'helm'], ['c-edge-2', 'helm']]);
  const byId = new Map(rendered.map((r) => [r.clusterId, r.set]));
  const core = byId.get('c-core')?.objects ?? [];
  const edge = byId.get('c-edge-1')?.objects ?? [];
  t.equal((find(core, 'Deployment')?.spec as { replicas: number }).replicas, 2, 'fleet.yaml values over chart defaults');
  t.equal((find(edge, 'Deployment')?.spec as { replicas: number }).replicas, 1, 'the edge customization wins');
  t.same(find(edge, 'ConfigMap')?.data, { color: 'from-values-file', message: 'from-chart', site: 'site-edge', clusterEnv: 'edge' });
  t.same((find(core, 'ConfigMap')?.data as { clusterEnv: string }).clusterEnv, 'core');
  t.equal((find(core, 'Deployment')?.metadata as { namespace: string }).namespace, 'web', 'defaultNamespace applied to the unnamespaced Deployment');
  t.equal(byId.get('c-edge-1')?.revision, byId.get('c-edge-2')?.revision, 'same inputs, same content, same revision');
  t.not(byId.get('c-edge-1')?.revision, byId.get('c-core')?.revision);
});

t.test('helm render: a chart that fails is HELM_RENDER_FAILED with helm\'s message, bundle and target; nothing is returned', async (t) => {
  const dir = tree({
    ...chart,
    'fleet.yaml': `helm: { chart: ./chart }
targetCustomizations:
  - name: core
    clusterName: core
    helm: { values: { explode: true } }
`,
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [bundle] = await discoverBundles(dir, { prefix: 'bad' });
  if (!bundle) throw new Error('no bundle');
  const targets = resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters, groups: [] });
  let result: unknown = 'untouched';
  try {
    result = await renderBundle(bundle, targets.deployments, tools);
    t.fail('rendered');
  } catch (e) {
    const err = e as { code: string; message: string; context: { bundle?: string; target?: string } };
    t.equal(err.code, 'HELM_RENDER_FAILED');
    t.match(err.message, /the chart refuses explode=true/);
    t.notMatch(err.message, /--debug/, 'helm\'s shell advice is dropped');
    t.same(err.context, { bundle: 'bad', target: 'core' });
  }
  t.equal(result, 'untouched', 'no partial result for the clusters that rendered');
});

t.test('helm render: a missing chart path is BUNDLE_NOT_FOUND; a missing helm binary is TOOL_NOT_FOUND', async (t) => {
  const dir = tree({ 'fleet.yaml': 'helm: { chart: ./nochart }\n' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [bundle] = await discoverBundles(dir, { prefix: 'x' });
  if (!bundle) throw new Error('no bundle');
  const targets = resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters, groups: [] });
  await t.rejects(renderBundle(bundle, targets.deployments, tools), { code: 'BUNDLE_NOT_FOUND' });
  const withChart = tree({ ...chart, 'fleet.yaml': 'helm: { chart: ./chart }\n' });
  t.teardown(() => rmSync(withChart, { recursive: true, force: true }));
  const [b2] = await discoverBundles(withChart, { prefix: 'y' });
  if (!b2) throw new Error('no bundle');
  const bogus = toolsAt({ helm: join(withChart, 'no-helm-here'), kustomize: tools.kustomize() });
  await t.rejects(renderBundle(b2, resolveTargets({ bundle: b2.name, fleetYaml: b2.fleetYaml, clusters, groups: [] }).deployments, bogus), { code: 'TOOL_NOT_FOUND' });
});

t.test('helm render: helm.repo and helm.version fetch the chart from a chart repository (served locally)', async (t) => {
  const src = tree(chart);
  const repoDir = join(src, 'repo');
  mkdirSync(repoDir);
  const helmEnv = { PATH: process.env.PATH ?? '', HOME: src, HELM_CACHE_HOME: join(src, '.c'), HELM_CONFIG_HOME: join(src, '.f'), HELM_DATA_HOME: join(src, '.d') };
  execFileSync(tools.helm(), ['package', join(src, 'chart'), '-d', repoDir], { env: helmEnv });
  execFileSync(tools.helm(), ['repo', 'index', repoDir], { env: helmEnv });
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    try {
      res.end(readFileSync(join(repoDir, (req.url ?? '/').replace(/^\/+/, '').replace(/\.\./g, ''))));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    server.close();
    rmSync(src, { recursive: true, force: true });
  });
  const port = (server.address() as { port: number }).port;
  const dir = tree({ 'fleet.yaml': `helm:\n  repo: http://127.0.0.1:${port}\n  chart: web\n  version: 0.1.0\n  values: { color: from-repo }\n` });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [bundle] = await discoverBundles(dir, { prefix: 'remote' });
  if (!bundle) throw new Error('no bundle');
  const rendered = await renderBundle(bundle, resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters: clusters.slice(0, 1), groups: [] }).deployments, tools);
  t.equal((find(rendered[0]?.set.objects ?? [], 'ConfigMap')?.data as { color: string }).color, 'from-repo');
  t.ok(requests.includes('/index.yaml') && requests.some((u) => u.endsWith('web-0.1.0.tgz')), 'helm fetched the index and the chart from our server');
  const missing = tree({ 'fleet.yaml': `helm:\n  repo: http://127.0.0.1:${port}\n  chart: web\n  version: 9.9.9\n` });
  t.teardown(() => rmSync(missing, { recursive: true, force: true }));
  const [b2] = await discoverBundles(missing, { prefix: 'remote' });
  if (!b2) throw new Error('no bundle');
  await t.rejects(renderBundle(b2, resolveTargets({ bundle: b2.name, fleetYaml: b2.fleetYaml, clusters: clusters.slice(0, 1), groups: [] }).deployments, tools), {
    code: 'HELM_CHART_NOT_FOUND',
    message: /9\.9\.9/,
  });
});

t.test('helm render: clusters with equal final values share one helm run; ${ .ClusterName } makes them distinct', async (t) => {
  const many: ClusterInfo[] = Array.from({ length: 6 }, (_, i) => ({ id: `c${i}`, name: `site-${i}`, labels: { env: i % 2 ? 'edge' : 'core' } }));
  let runs = 0;
  const counting = { helm: () => (runs++, tools.helm()), kustomize: () => tools.kustomize() };
  const shared = tree({ ...chart, 'fleet.yaml': 'helm: { chart: ./chart }\n' });
  const named = tree({ ...chart, 'fleet.yaml': 'helm: { chart: ./chart, values: { site: "${ .ClusterName }" } }\n' });
  t.teardown(() => [shared, named].forEach((d) => rmSync(d, { recursive: true, force: true })));
  for (const [dir, expectedRuns] of [[shared, 2], [named, 6]] as const) {
    runs = 0;
    const [bundle] = await discoverBundles(dir, { prefix: 'many' });
    if (!bundle) throw new Error('no bundle');
    const out = await renderBundle(bundle, resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters: many, groups: [] }).deployments, counting);
    t.equal(runs, expectedRuns);
    t.equal(out.length, 6);
    t.equal(new Set(out.map((o) => o.set.revision)).size, expectedRuns);
  }
});

t.test('helm render: a chart symlink to a server file is PATH_ESCAPES_BUNDLE before helm runs (no .Files.Get leak)', async (t) => {
  const dir = tree({ ...chart, 'chart/templates/leak.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: leak }\ndata: { x: {{ .Files.Get "files/hostname" | quote }} }\n', 'fleet.yaml': 'helm: { chart: ./chart }\n' });
  mkdirSync(join(dir, 'chart', 'files'));
  symlinkSync('/etc/hostname', join(dir, 'chart', 'files', 'hostname'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [bundle] = await discoverBundles(dir, { prefix: 'leak' });
  if (!bundle) throw new Error('no bundle');
  let runs = 0;
  const counting = { helm: () => (runs++, tools.helm()), kustomize: () => tools.kustomize() };
  await t.rejects(renderBundle(bundle, resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters, groups: [] }).deployments, counting), {
    code: 'PATH_ESCAPES_BUNDLE',
    message: /chart\/files\/hostname/,
  });
  t.equal(runs, 0);
});
