// fleet.yaml parsing: Fleet's option names accepted, unknown keys and bad values refused with the file.
import t from 'tap';
import { parseFleetYaml } from './fleet-yaml.ts';
import { FleetError } from './errors.ts';

const full = `
defaultNamespace: web
namespace: web-forced
helm:
  chart: ./chart
  repo: https://charts.example.com
  version: 1.2.3
  releaseName: web
  values: { replicas: 2, image: { tag: "1.0" } }
  valuesFiles: [values-prod.yaml]
kustomize: { dir: overlays/prod }
yaml: { overlays: [edge] }
targetCustomizations:
  - name: edge
    clusterSelector:
      matchLabels: { env: edge }
      matchExpressions:
        - { key: tier, operator: In, values: [a, b] }
        - { key: legacy, operator: DoesNotExist }
    helm: { values: { replicas: 1 } }
    yaml: { overlays: [small] }
  - name: lab
    clusterName: lab-1
    doNotDeploy: true
  - name: grp
    clusterGroup: stores
    kustomize: { dir: overlays/store }
dependsOn:
  - name: infra
  - selector: { matchLabels: { app: db } }
    acceptedStates: [Ready, Modified]
diff:
  comparePatches:
    - apiVersion: apps/v1
      kind: Deployment
      name: web
      namespace: web
      operations: [{ op: remove, path: /spec/replicas }]
      jsonPointers: [/spec/template/metadata/annotations]
correctDrift: { enabled: true }
keepResources: true
paused: false
labels: {tier: infra, example.com/team: edge}
rolloutStrategy:
  maxUnavailable: 25%
  partitions:
    - { name: canary, maxUnavailable: 1, clusterSelector: { matchLabels: { canary: "true" } } }
    - { name: rest, maxUnavailable: "50%", clusterGroup: stores }
`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof FleetError ? e.code : `not a FleetError: ${String(e)}`;
  }
  return undefined;
}

t.test('fleet.yaml: every documented Fleet option parses', async (t) => {
  const f = parseFleetYaml(full, 'web/fleet.yaml');
  t.equal(f.helm?.valuesFiles?.[0], 'values-prod.yaml');
  t.equal(f.targetCustomizations?.length, 3);
  t.equal(f.targetCustomizations?.[0]?.clusterSelector?.matchExpressions?.[1]?.operator, 'DoesNotExist');
  t.same(f.dependsOn?.[1]?.acceptedStates, ['Ready', 'Modified']);
  t.same(f.labels, { tier: 'infra', 'example.com/team': 'edge' }, 'bundle labels, for dependsOn selectors');
  t.equal(f.rolloutStrategy?.maxUnavailable, '25%');
  t.equal(f.rolloutStrategy?.partitions?.[1]?.maxUnavailable, '50%');
  t.equal(f.correctDrift?.enabled, true);
  t.equal(f.keepResources, true);
});

t.test('fleet.yaml: an empty file is an empty bundle configuration', async (t) => {
  t.same(parseFleetYaml('', 'fleet.yaml'), {});
  t.same(parseFleetYaml('# only a comment\n', 'fleet.yaml'), {});
});

t.test('fleet.yaml: an unknown key is refused with FLEET_YAML_UNKNOWN_KEY naming the key path and file', async (t) => {
  try {
    parseFleetYaml('helm:\n  chart: x\n  valueFiles: [a.yaml]\n', 'apps/web/fleet.yaml');
    t.fail('accepted');
  } catch (e) {
    t.ok(e instanceof FleetError);
    const err = e as FleetError;
    t.equal(err.code, 'FLEET_YAML_UNKNOWN_KEY');
    t.equal(err.context.key, 'helm.valueFiles');
    t.equal(err.context.file, 'apps/web/fleet.yaml');
    t.match(err.message, /apps\/web\/fleet\.yaml: unknown key "helm\.valueFiles"/);
  }
  t.equal(codeOf(() => parseFleetYaml('targetCustomizations:\n- name: a\n  clusterLabels: {}\n', 'f.yaml')), 'FLEET_YAML_UNKNOWN_KEY');
  t.equal(codeOf(() => parseFleetYaml('defaultNamespce: x\n', 'f.yaml')), 'FLEET_YAML_UNKNOWN_KEY');
});

t.test('fleet.yaml: invalid YAML is FLEET_YAML_INVALID with file, line and column', async (t) => {
  try {
    parseFleetYaml('helm:\n  values: [a,\n', 'x/fleet.yaml');
    t.fail('accepted');
  } catch (e) {
    t.equal((e as FleetError).code, 'FLEET_YAML_INVALID');
    t.match((e as FleetError).message, /^x\/fleet\.yaml:\d+:\d+: /);
  }
  t.equal(codeOf(() => parseFleetYaml('a: 1\na: 2\n', 'f.yaml')), 'FLEET_YAML_INVALID', 'duplicate keys are refused');
});

t.test('fleet.yaml: wrong types are FLEET_YAML_SCHEMA naming the key', async (t) => {
  const cases: [string, string][] = [
    ['paused: "yes please"\n', 'paused'],
    ['rolloutStrategy:\n  maxUnavailable: lots\n', 'rolloutStrategy.maxUnavailable'],
    ['targetCustomizations:\n- clusterSelector:\n    matchExpressions:\n    - {key: a, operator: Has}\n', 'targetCustomizations[0].clusterSelector.matchExpressions[0].operator'],
    ['dependsOn:\n- acceptedStates: [Fine]\n', 'dependsOn[0].acceptedStates[0]'],
    ['- a\n- b\n', ''],
  ];
  for (const [text, key] of cases) {
    try {
      parseFleetYaml(text, 'f.yaml');
      t.fail(`accepted ${text}`);
    } catch (e) {
      t.equal((e as FleetError).code, 'FLEET_YAML_SCHEMA', text);
      t.equal((e as FleetError).context.key, key, text);
    }
  }
});
