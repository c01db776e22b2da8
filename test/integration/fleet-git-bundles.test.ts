// Issue 6's source side end to end, without a server: a git repository with a plain-YAML bundle,
// a kustomize bundle and a Helm chart bundle with targetCustomizations is polled with the real git
// and rendered with the real helm and kustomize for three clusters (two env=edge, one env=core).
// Then commits with bad input (invalid YAML, a failing chart, an unknown key) fail only their bundle,
// with a structured error and no partial result, and a target that matches nothing is refused.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { tools } from '../k8s/harness.ts';
import { GitPoller, type PollerTimers } from '../../server-lite/fleet/git-poller.ts';
import { renderDiscovered, type BundleOutcome, type RenderedBundle } from '../../server-lite/fleet/render-source.ts';
import type { ClusterInfo } from '../../server-lite/fleet/targeting.ts';
import type { JsonObject } from '../../server-lite/fleet/manifest-set.ts';

const clusters: ClusterInfo[] = [
  { id: 'c-edge-1', name: 'edge-1', labels: { env: 'edge' } },
  { id: 'c-edge-2', name: 'edge-2', labels: { env: 'edge' } },
  { id: 'c-core', name: 'core', labels: { env: 'core' } },
];

const files: Record<string, string> = {
  // Plain YAML for edge only (core is excluded with doNotDeploy), with an overlay on edge-2.
  'plain/fleet.yaml': `defaultNamespace: plain
targetCustomizations:
  - name: edge-2
    clusterName: edge-2
    yaml: { overlays: [bigger] }
  - name: core
    clusterSelector: { matchLabels: { env: core } }
    doNotDeploy: true
`,
  'plain/deploy.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: plain }\nspec:\n  replicas: 1\n  selector: { matchLabels: { app: plain } }\n  template: { metadata: { labels: { app: plain } }, spec: { containers: [{ name: c, image: "r.local/p:1" }] } }\n',
  'plain/overlays/bigger/deploy_patch.yaml': 'kind: Deployment\nmetadata: { name: plain }\nspec: { replicas: 3 }\n',
  // Kustomize: base for core, the edge overlay for edge.
  'kust/fleet.yaml': 'defaultNamespace: kust\ntargetCustomizations:\n  - name: edge\n    clusterSelector: { matchLabels: { env: edge } }\n    kustomize: { dir: overlays/edge }\n',
  'kust/kustomization.yaml': 'resources: [base]\n',
  'kust/base/kustomization.yaml': 'resources: [cm.yaml]\n',
  'kust/base/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: kust }\ndata: { site: base }\n',
  'kust/overlays/edge/kustomization.yaml': 'resources: [../../base]\npatches:\n  - patch: |-\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: { name: kust }\n      data: { site: edge }\n',
  // Helm with per-target values.
  'chart/fleet.yaml': `defaultNamespace: helm
helm:
  chart: ./web
  releaseName: web
  values: { replicas: 2, greeting: "hello \${ .ClusterName }" }
targetCustomizations:
  - name: edge
    clusterSelector: { matchExpressions: [{ key: env, operator: In, values: [edge] }] }
    helm: { values: { replicas: 1 } }
`,
  'chart/web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 0.1.0\n',
  'chart/web/values.yaml': 'replicas: 9\ngreeting: chart\nfail: false\n',
  'chart/web/templates/cm.yaml': '{{- if .Values.fail }}{{ fail "chart says no" }}{{ end }}\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: web }\ndata:\n  replicas: {{ .Values.replicas | quote }}\n  greeting: {{ .Values.greeting | quote }}\n  env: {{ .Values.global.fleet.clusterLabels.env | quote }}\n',
};

function repo() {
  const dir = mkdtempSync(join(tmpdir(), 'drover-fleet-repo-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
  git('init', '-q', '-b', 'main');
  return {
    dir,
    commit(changes: Record<string, string>) {
      for (const [rel, text] of Object.entries(changes)) {
        mkdirSync(dirname(join(dir, rel)), { recursive: true });
        writeFileSync(join(dir, rel), text);
      }
      git('add', '-A');
      git('commit', '-q', '-m', 'change');
    },
  };
}

const idleTimers: PollerTimers = { setTimeout: () => 0, clearTimeout: () => {} };

function ok(outcomes: BundleOutcome[], name: string): RenderedBundle {
  const o = outcomes.find((x) => (x.ok ? x.result.name : x.name) === name);
  if (!o?.ok) throw new Error(`bundle ${name} did not render: ${o && !o.ok ? o.error.message : 'missing'}`);
  return o.result;
}

function objectsFor(b: RenderedBundle, clusterId: string): JsonObject[] {
  return b.targets.find((x) => x.clusterId === clusterId)?.set.objects.map((o) => o.object) ?? [];
}

t.test('fleet source: three bundle types land only where targeted, with per-target values', async (t) => {
  const src = repo();
  const work = mkdtempSync(join(tmpdir(), 'drover-fleet-work-'));
  t.teardown(() => [src.dir, work].forEach((d) => rmSync(d, { recursive: true, force: true })));
  src.commit(files);
  const poll = await new GitPoller({ name: 'demo', repo: `file://${src.dir}`, branch: 'main', workDir: work, timers: idleTimers }).pollNow();
  t.equal(poll.error, undefined);
  t.same(poll.bundles.map((b) => b.name), ['demo-chart', 'demo-kust', 'demo-plain']);
  const outcomes = await renderDiscovered({ bundles: poll.bundles, clusters, groups: [], tools });

  const plain = ok(outcomes, 'demo-plain');
  t.same(plain.targets.map((x) => x.clusterId), ['c-edge-1', 'c-edge-2'], 'plain YAML skips core (doNotDeploy)');
  t.same(plain.excluded, [{ clusterId: 'c-core', customization: 'core' }]);
  t.same(objectsFor(plain, 'c-edge-1').map((o) => (o.spec as { replicas: number }).replicas), [1]);
  t.same(objectsFor(plain, 'c-edge-2').map((o) => (o.spec as { replicas: number }).replicas), [3], 'the overlay applies on edge-2 only');

  const kust = ok(outcomes, 'demo-kust');
  t.same(objectsFor(kust, 'c-core').map((o) => (o.data as { site: string }).site), ['base']);
  t.same(objectsFor(kust, 'c-edge-2').map((o) => (o.data as { site: string }).site), ['edge']);

  const chart = ok(outcomes, 'demo-chart');
  t.same(objectsFor(chart, 'c-core')[0]?.data, { replicas: '2', greeting: 'hello core', env: 'core' });
  t.same(objectsFor(chart, 'c-edge-1')[0]?.data, { replicas: '1', greeting: 'hello edge-1', env: 'edge' });
  t.equal((objectsFor(chart, 'c-edge-1')[0]?.metadata as { namespace: string }).namespace, 'helm');
  t.match(chart.revision, /^[0-9a-f]{64}$/);
});

t.test('fleet source: bad input fails only its bundle with a structured error; the others still render', async (t) => {
  const src = repo();
  const work = mkdtempSync(join(tmpdir(), 'drover-fleet-work-'));
  t.teardown(() => [src.dir, work].forEach((d) => rmSync(d, { recursive: true, force: true })));
  src.commit(files);
  const poller = new GitPoller({ name: 'demo', repo: `file://${src.dir}`, branch: 'main', workDir: work, timers: idleTimers });
  const good = await renderDiscovered({ bundles: (await poller.pollNow()).bundles, clusters, groups: [], tools });
  const goodKust = ok(good, 'demo-kust').revision;

  src.commit({
    'plain/deploy.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: plain\n',
    'chart/fleet.yaml': 'helm:\n  chart: ./web\n  values: { fail: true }\n',
    'kust/fleet.yaml': 'kustomize: { dir: base }\nkeepResources: sometimes\n',
    'extra/fleet.yaml': 'defaultNamespace: extra\n',
    'extra/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: extra }\n',
  });
  const poll = await poller.pollNow();
  t.equal(poll.changed, true);
  t.same(poll.failed.map((f) => [f.name, f.error.code, f.error.context.file, f.error.context.key]), [['demo-kust', 'FLEET_YAML_SCHEMA', 'kust/fleet.yaml', 'keepResources']]);
  const outcomes = await renderDiscovered({ bundles: poll.bundles, clusters, groups: [], tools });
  const failures = Object.fromEntries(outcomes.filter((o) => !o.ok).map((o) => (o.ok ? [] : [o.name, o.error.toJSON()])));
  t.equal(failures['demo-chart']?.code, 'HELM_RENDER_FAILED');
  t.match(failures['demo-chart']?.message, /chart says no/);
  t.equal(failures['demo-plain']?.code, 'MANIFEST_INVALID');
  t.match(failures['demo-plain']?.message, /demo-plain\/deploy\.yaml/);
  t.same(outcomes.map((o) => [o.ok ? o.result.name : o.name, o.ok]), [['demo-chart', false], ['demo-extra', true], ['demo-plain', false]], 'a good bundle in the same commit still renders');
  t.same(ok(outcomes, 'demo-extra').targets.length, 3);

  // Fixing one bundle brings it back with its earlier content and revision.
  src.commit({ 'kust/fleet.yaml': files['kust/fleet.yaml'] ?? '' });
  const fixed = await renderDiscovered({ bundles: (await poller.pollNow()).bundles, clusters, groups: [], tools });
  t.equal(ok(fixed, 'demo-kust').revision, goodKust, 'same content, same revision');
});

t.test('fleet source: a gitrepo target that matches no cluster is allowed (as in Fleet), with a warning naming the selector', async (t) => {
  const src = repo();
  const work = mkdtempSync(join(tmpdir(), 'drover-fleet-work-'));
  t.teardown(() => [src.dir, work].forEach((d) => rmSync(d, { recursive: true, force: true })));
  src.commit({ 'kust/fleet.yaml': '', 'kust/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n' });
  const poll = await new GitPoller({ name: 'demo', repo: `file://${src.dir}`, branch: 'main', workDir: work, timers: idleTimers }).pollNow();
  const outcomes = await renderDiscovered({ bundles: poll.bundles, clusters, groups: [], targets: [{ name: 'mars', clusterSelector: { matchLabels: { env: 'mars' } } }], tools });
  t.same(outcomes.map((o) => (o.ok ? [o.result.name, o.result.targets.length, o.result.warnings] : o.error.code)), [
    ['demo-kust', 0, ['bundle demo-kust: target "selector env=mars" matches no cluster', 'bundle demo-kust targets no cluster']],
  ]);
});
