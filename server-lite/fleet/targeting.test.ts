// Targeting: bundle targets choose clusters, the first matching targetCustomization customises,
// doNotDeploy excludes, and targets or customizations that match nothing are reported.
import t from 'tap';
import fc from 'fast-check';
import { parseFleetYaml } from './fleet-yaml.ts';
import { matchesTarget, resolveTargets, type ClusterInfo } from './targeting.ts';
import { FleetError } from './errors.ts';

const clusters: ClusterInfo[] = [
  { id: 'c-edge-1', name: 'edge-1', labels: { env: 'edge', store: 'yes' } },
  { id: 'c-edge-2', name: 'edge-2', labels: { env: 'edge' } },
  { id: 'c-core', name: 'core', labels: { env: 'core' } },
];
const groups = [{ name: 'stores', selector: { matchLabels: { store: 'yes' } } }];

const fleetYaml = parseFleetYaml(
  `
defaultNamespace: web
helm:
  values: { replicas: 3, color: blue }
  valuesFiles: [base.yaml]
targetCustomizations:
  - name: store
    clusterGroup: stores
    helm: { values: { replicas: 1 }, valuesFiles: [store.yaml] }
  - name: edge
    clusterSelector: { matchLabels: { env: edge } }
    helm: { values: { replicas: 2 } }
    kustomize: { dir: overlays/edge }
  - name: nowhere
    clusterSelector: { matchLabels: { env: mars } }
`,
  'fleet.yaml',
).fleetYaml;

t.test('targeting: without targets every cluster is targeted and the first matching customization wins', async (t) => {
  const r = resolveTargets({ bundle: 'web', fleetYaml, clusters, groups });
  t.same(r.deployments.map((d) => [d.cluster.id, d.customization]), [
    ['c-core', undefined],
    ['c-edge-1', 'store'],
    ['c-edge-2', 'edge'],
  ]);
  const edge1 = r.deployments.find((d) => d.cluster.id === 'c-edge-1');
  t.same(edge1?.options.helm?.valuesLayers, [
    { kind: 'inline', values: { replicas: 3, color: 'blue' } },
    { kind: 'file', path: 'base.yaml' },
    { kind: 'file', path: 'store.yaml' },
    { kind: 'inline', values: { replicas: 1 } },
  ], 'values layers in precedence order: fleet.yaml values < valuesFiles < customization');
  t.equal(r.deployments.find((d) => d.cluster.id === 'c-edge-2')?.options.kustomizeDir, 'overlays/edge');
  t.equal(r.deployments.find((d) => d.cluster.id === 'c-core')?.options.kustomizeDir, undefined);
  t.equal(edge1?.options.defaultNamespace, 'web');
});

t.test('targeting: a customization that matches no cluster is reported, not silently dropped', async (t) => {
  const r = resolveTargets({ bundle: 'web', fleetYaml, clusters, groups });
  t.same(r.unmatchedCustomizations, ['nowhere']);
});

t.test('targeting: explicit targets restrict clusters; doNotDeploy excludes and is reported', async (t) => {
  const fy = parseFleetYaml('targetCustomizations:\n- name: skip\n  clusterName: edge-2\n  doNotDeploy: true\n', 'fleet.yaml').fleetYaml;
  const r = resolveTargets({ bundle: 'web', fleetYaml: fy, targets: [{ name: 'edge', clusterSelector: { matchLabels: { env: 'edge' } } }], clusters, groups });
  t.same(r.deployments.map((d) => d.cluster.id), ['c-edge-1']);
  t.same(r.excluded, [{ clusterId: 'c-edge-2', customization: 'skip' }]);
});

t.test('targeting: a target that matches no cluster is allowed, as in Fleet, with a warning naming what the user wrote', async (t) => {
  const r = resolveTargets({
    bundle: 'web',
    fleetYaml: {},
    targets: [{ name: 'target-1', clusterSelector: { matchLabels: { env: 'mars' } } }, { name: 'target-2', clusterSelector: { matchLabels: { env: 'edge' } } }],
    clusters,
    groups,
  });
  t.same(r.deployments.map((d) => d.cluster.id), ['c-edge-1', 'c-edge-2'], 'the other target still deploys');
  t.same(r.warnings, ['bundle web: target "selector env=mars" matches no cluster'], 'the selector, not target-1');
  t.throws(() => resolveTargets({ bundle: 'web', fleetYaml: {}, targets: [{ clusterGroup: 'nope' }], clusters, groups }), { code: 'TARGET_NO_MATCH' }, 'unknown group');
  t.throws(
    () => resolveTargets({ bundle: 'web', fleetYaml: {}, targets: [{ clusterSelector: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] } }], clusters, groups }),
    { code: 'SELECTOR_INVALID' },
  );
});

t.test('targeting: criteria are ANDed; a target with no criteria matches nothing; clusterName matches name or id', async (t) => {
  const g = new Map(groups.map((x) => [x.name, x]));
  const c = clusters[0] as ClusterInfo;
  t.notOk(matchesTarget({}, c, g));
  t.ok(matchesTarget({ clusterName: 'edge-1' }, c, g));
  t.ok(matchesTarget({ clusterName: 'c-edge-1' }, c, g));
  t.ok(matchesTarget({ clusterGroup: 'stores', clusterSelector: { matchLabels: { env: 'edge' } } }, c, g));
  t.notOk(matchesTarget({ clusterGroup: 'stores', clusterSelector: { matchLabels: { env: 'core' } } }, c, g));
});

t.test('targeting: property: every cluster lands in exactly one of deployments, excluded or untargeted', async () => {
  const clusterArb = fc.uniqueArray(
    fc.record({ id: fc.stringMatching(/^c[0-9]{1,3}$/), env: fc.constantFrom('edge', 'core', 'lab'), skip: fc.boolean() }),
    { selector: (c) => c.id, maxLength: 20 },
  );
  fc.assert(
    fc.property(clusterArb, (cs) => {
      const infos = cs.map((c) => ({ id: c.id, name: c.id, labels: { env: c.env, ...(c.skip ? { skip: 'y' } : {}) } }));
      const fy = parseFleetYaml('targetCustomizations:\n- clusterSelector: {matchLabels: {skip: "y"}}\n  doNotDeploy: true\n', 'f').fleetYaml;
      const targeted = infos.filter((c) => c.labels.env !== 'lab');
      const targets = targeted.length > 0 ? [{ clusterSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn' as const, values: ['lab'] }] } }] : undefined;
      const r = resolveTargets({ bundle: 'b', fleetYaml: fy, targets, clusters: infos, groups: [] });
      const placed = [...r.deployments.map((d) => d.cluster.id), ...r.excluded.map((e) => e.clusterId)].sort();
      const expected = (targets ? targeted : infos).map((c) => c.id).sort();
      return JSON.stringify(placed) === JSON.stringify(expected) && r.excluded.every((e) => infos.find((c) => c.id === e.clusterId)?.labels.skip === 'y');
    }),
  );
});
