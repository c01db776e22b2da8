// Fleet's Helm + kustomize (issue 23, finding 3: the kustomize step used to be skipped silently):
// with the real helm and kustomize, a chart whose targets pick kustomize overlays renders, per
// target, exactly what `helm template | kustomize build` gives by hand (the chart's output put first
// in the overlay's resources, as Fleet does), on two clusters with different overlays.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tools } from '../k8s/harness.ts';
import { discoverBundles } from '../../server-lite/fleet/discovery.ts';
import { renderBundle } from '../../server-lite/fleet/render-bundle.ts';
import { resolveTargets, type ClusterInfo } from '../../server-lite/fleet/targeting.ts';
import { normaliseManifests, parseManifests } from '../../server-lite/fleet/manifest-set.ts';

const FIXTURE = new URL('../fixtures/bundles/helm-kustomize/', import.meta.url).pathname;
const clusters: ClusterInfo[] = [
  { id: 'c-dev', name: 'dev-1', labels: { env: 'dev' } },
  { id: 'c-prod', name: 'prod-1', labels: { env: 'prod' } },
];

/** `helm template` of the fixture, then `kustomize build` of the overlay with it, done by hand. */
function byHand(overlay: string): ReturnType<typeof normaliseManifests> {
  const work = mkdtempSync(join(tmpdir(), 'drover-by-hand-'));
  try {
    cpSync(FIXTURE, work, { recursive: true });
    const values = join(work, 'values-by-hand.json');
    writeFileSync(values, JSON.stringify({ greeting: 'hello from fleet.yaml' }));
    const out = execFileSync(tools.helm(), ['template', 'shop', work, '--namespace', 'shop', '--values', values, '--include-crds'], { encoding: 'utf8' });
    const dir = join(work, 'overlays', overlay);
    writeFileSync(join(dir, 'fleet-manifests.yaml'), out);
    const k = readFileSync(join(dir, 'kustomization.yaml'), 'utf8');
    const listed = /^resources: \[(.*)\]$/m.exec(k)?.[1];
    const resources = `resources: [fleet-manifests.yaml${listed ? `, ${listed}` : ''}]`;
    writeFileSync(join(dir, 'kustomization.yaml'), listed ? k.replace(/^resources: \[.*\]$/m, resources) : `${resources}\n${k}`);
    const built = execFileSync(tools.kustomize(), ['build', dir], { encoding: 'utf8' });
    return normaliseManifests(parseManifests(built, 'by hand'), { bundle: 'shop', defaultNamespace: 'shop' });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

t.test('helm + kustomize: each target gets the chart through its own overlay, as helm template | kustomize build', async (t) => {
  const [bundle] = await discoverBundles(FIXTURE, { prefix: 'shop' });
  if (!bundle) throw new Error('no bundle');
  t.same(bundle.warnings, [], "the fixture's fleet.yaml (with an empty chart and a comment-only kustomize) reads cleanly");
  const rendered = await renderBundle(bundle, resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters, groups: [] }).deployments, tools);
  const byId = new Map(rendered.map((r) => [r.clusterId, r]));
  for (const [id, overlay] of [['c-dev', 'dev'], ['c-prod', 'prod']] as const) {
    const got = byId.get(id);
    t.equal(got?.renderer, 'helm+kustomize', `${id}: Helm, then kustomize`);
    const want = byHand(overlay);
    t.same(got?.set.objects.map((o) => o.id), want.objects.map((o) => o.id), `${id}: the same objects as by hand`);
    t.equal(got?.set.revision, want.revision, `${id}: byte for byte the same content as by hand`);
  }
  const dev = byId.get('c-dev')?.set.objects ?? [];
  const prod = byId.get('c-prod')?.set.objects ?? [];
  const cm = dev.find((o) => o.id.includes('ConfigMap'))?.object as { data: Record<string, string>; metadata: { labels: Record<string, string> } };
  t.same(cm.data, { greeting: 'hello from fleet.yaml', tier: 'dev' }, 'fleet.yaml values reach the chart, the dev patch lands');
  t.equal(cm.metadata.labels.env, 'dev');
  const deploy = prod.find((o) => o.id.includes('Deployment'))?.object as { spec: { replicas: number } };
  t.equal(deploy.spec.replicas, 3, 'the prod overlay scales');
  t.ok(prod.some((o) => o.id.includes('PodDisruptionBudget')), "the prod overlay's own resource is there");
  t.notOk(dev.some((o) => o.id.includes('PodDisruptionBudget')));
  t.same(readFileSync(join(FIXTURE, 'overlays/prod/kustomization.yaml'), 'utf8').includes('fleet-manifests'), false, 'the source is never changed');
});

t.test('helm + kustomize: a chart without a kustomization stays plain Helm', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'drover-helm-only-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  cpSync(FIXTURE, work, { recursive: true });
  writeFileSync(join(work, 'fleet.yaml'), 'defaultNamespace: shop\nhelm: {releaseName: shop}\n');
  const [bundle] = await discoverBundles(work, { prefix: 'shop' });
  if (!bundle) throw new Error('no bundle');
  const [r] = await renderBundle(bundle, resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters, groups: [] }).deployments, tools);
  t.equal(r?.renderer, 'helm');
  t.same(r?.set.objects.map((o) => o.id).sort(), ['/ConfigMap/shop/shop-settings', 'apps/Deployment/shop/shop-shop']);
});
