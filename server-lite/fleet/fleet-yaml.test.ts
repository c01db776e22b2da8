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
  const { fleetYaml: f, warnings } = parseFleetYaml(full, 'web/fleet.yaml');
  t.same(warnings, [], 'every key of the full example is honoured');
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
  t.same(parseFleetYaml('', 'fleet.yaml'), { fleetYaml: {}, warnings: [] });
  t.same(parseFleetYaml('# only a comment\n', 'fleet.yaml'), { fleetYaml: {}, warnings: [] });
});

t.test('fleet.yaml: an unknown key is a warning naming the key path, file and the near miss; --strict refuses it', async (t) => {
  const r = parseFleetYaml('helm:\n  chart: x\n  valueFiles: [a.yaml]\n', 'apps/web/fleet.yaml');
  t.same(r.fleetYaml, { helm: { chart: 'x' } }, 'ignored, as Fleet ignores it');
  t.same(r.warnings, ['apps/web/fleet.yaml: unknown key "helm.valueFiles" (did you mean "valuesFiles"?) is ignored (as Fleet ignores it); `--strict` refuses it']);
  try {
    parseFleetYaml('helm:\n  chart: x\n  valueFiles: [a.yaml]\n', 'apps/web/fleet.yaml', { strict: true });
    t.fail('accepted');
  } catch (e) {
    t.ok(e instanceof FleetError);
    const err = e as FleetError;
    t.equal(err.code, 'FLEET_YAML_UNKNOWN_KEY');
    t.equal(err.context.key, 'helm.valueFiles');
    t.equal(err.context.file, 'apps/web/fleet.yaml');
    t.match(err.message, /apps\/web\/fleet\.yaml: unknown key "helm\.valueFiles" \(did you mean "valuesFiles"\?\)/);
  }
  t.equal(codeOf(() => parseFleetYaml('targetCustomizations:\n- name: a\n  clusterLabels: {}\n', 'f.yaml', { strict: true })), 'FLEET_YAML_UNKNOWN_KEY');
  t.match(parseFleetYaml('defaultNamespce: x\n', 'f.yaml').warnings[0], /did you mean "defaultNamespace"/);
});

t.test("fleet.yaml: Fleet's template with empty values and comment-only sections reads as unset", async (t) => {
  const template = `# Fleet's fleet.yaml template, left mostly empty
defaultNamespace: demo
helm:
  chart: ""
  repo: ""
  version: ""
  releaseName: ""
  values:
    emptyIsData: ""
kustomize:
  # dir: overlays/dev
yaml:
diff:
targetCustomizations:
- name: dev
  clusterSelector:
    matchLabels: {env: dev}
  helm:
    chart: ""
  kustomize:
    dir: ""
`;
  const r = parseFleetYaml(template, 'fleet.yaml');
  t.same(r.warnings, []);
  t.same(r.fleetYaml, {
    defaultNamespace: 'demo',
    helm: { values: { emptyIsData: '' } },
    targetCustomizations: [{ name: 'dev', clusterSelector: { matchLabels: { env: 'dev' } }, helm: {}, kustomize: {} }],
  }, '"" and null are unset; values are user data and stay as written');
});

t.test("fleet.yaml: Fleet's options Drover does not implement: a warning when only the how changes, refused when the what would", async (t) => {
  const r = parseFleetYaml('namespaceLabels: {team: a}\nhelm:\n  chart: ./c\n  force: true\n  timeoutSeconds: 60\ntargetCustomizationMode: FirstMatch\ntargetCustomizations:\n- clusterName: x\n  helm: {atomic: true}\n', 'f.yaml');
  t.same(r.fleetYaml, { helm: { chart: './c' }, targetCustomizations: [{ clusterName: 'x', helm: {} }] });
  t.same(r.warnings.map((w) => /"([^"]+)"/.exec(w)?.[1]), ['namespaceLabels', 'helm.force', 'helm.timeoutSeconds', 'targetCustomizations[0].helm.atomic']);
  t.match(r.warnings[1], /f\.yaml: "helm\.force" is ignored: Drover applies with server-side apply/);
  try {
    parseFleetYaml('helm:\n  valuesFrom: [{configMapKeyRef: {name: v}}]\ntargetCustomizations:\n- clusterGroupSelector: {matchLabels: {a: b}}\npaused: maybe\n', 'f.yaml');
    t.fail('accepted');
  } catch (e) {
    const err = e as FleetError;
    t.equal(err.code, 'FLEET_YAML_UNSUPPORTED');
    t.match(err.message, /"helm\.valuesFrom" is not supported: .*other values; "targetCustomizations\[0\]\.clusterGroupSelector" is not supported: .*; "paused": /, 'every problem at once');
  }
  t.equal(codeOf(() => parseFleetYaml('targetCustomizationMode: AllMatches\n', 'f.yaml')), 'FLEET_YAML_UNSUPPORTED');
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
