// Fleet's GitRepo and ClusterGroup YAML mapped to Drover's gitrepos and groups, and back.
import t from 'tap';
import { parseDocument } from 'yaml';
import { gitRepoYaml, readFleetResources } from './fleet-resources.ts';
import { durationSeconds } from './duration.ts';

const FILE = `apiVersion: fleet.cattle.io/v1alpha1
kind: ClusterGroup
metadata: {name: prod, namespace: fleet-default}
spec:
  selector:
    matchLabels: {env: prod}
    matchExpressions: [{key: tier, operator: In, values: [a, b]}]
---
apiVersion: fleet.cattle.io/v1alpha1
kind: GitRepo
metadata: {name: apps, namespace: fleet-default}
spec:
  repo: https://git.example.com/ops/apps.git
  branch: main
  paths: [web, monitoring]
  pollingInterval: 1m30s
  serviceAccount: deployer
  targets:
  - name: prod
    clusterGroup: prod
  - name: edge
    clusterSelector: {matchLabels: {env: edge}}
  - name: one
    clusterName: berlin-1
`;

t.test('fleet resources: GitRepo and ClusterGroup map onto gitrepos and groups; what is ignored is said', async (t) => {
  const r = readFleetResources(FILE, 'f.yaml');
  t.same(r.errors, []);
  t.same(r.clustergroups, [{ name: 'prod', selector: 'env=prod,tier in (a,b)' }]);
  t.same(r.gitrepos, [{ name: 'apps', repo: 'https://git.example.com/ops/apps.git', branch: 'main', paths: ['web', 'monitoring'], pollIntervalSeconds: 90, targets: ['group=prod', 'env=edge', 'cluster=berlin-1'] }]);
  t.match(r.warnings, [/GitRepo apps.*spec\.serviceAccount is ignored: Drover applies as the fleet agent itself/]);
});

t.test('fleet resources: what would change what is deployed or where is refused, every problem at once', async (t) => {
  const r = readFleetResources(`apiVersion: fleet.cattle.io/v1alpha1
kind: GitRepo
metadata: {name: priv}
spec: {repo: git@example.com:x.git, helmSecretNameForPaths: creds, paused: true, targetNamespace: x, targets: [{clusterGroupSelector: {matchLabels: {a: b}}}]}
---
apiVersion: fleet.cattle.io/v1alpha1
kind: Bundle
metadata: {name: b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
`, 'g.yaml');
  t.equal(r.errors.length, 6, r.errors.join('\n'));
  t.match(r.errors.join('\n'), /helmSecretNameForPaths is not supported: Helm repository credentials per path[\s\S]*paused is not supported[\s\S]*targetNamespace is not supported[\s\S]*clusterGroupSelector is not supported[\s\S]*Fleet makes Bundle objects[\s\S]*apiVersion must be fleet\.cattle\.io\/v1alpha1/);
});

t.test('fleet resources: a {} selector target means every cluster; durations as Go writes them', async (t) => {
  const r = readFleetResources('apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata: {name: all}\nspec: {repo: x, targets: [{clusterSelector: {}}]}\n', 'h.yaml');
  t.same(r.gitrepos[0], { name: 'all', repo: 'x' });
  t.equal(durationSeconds('15s'), 15);
  t.equal(durationSeconds('1h2m3s'), 3723);
  t.equal(durationSeconds('soon'), undefined);
});

t.test('fleet resources: gitrepo get -o yaml gives back a GitRepo that reads in again to the same gitrepo', async (t) => {
  const g = { name: 'apps', repo: 'https://git.example.com/ops/apps.git', branch: 'main', paths: ['web'], pollIntervalSeconds: 90, targets: ['group=prod', 'env=edge,tier notin (x)', 'cluster=berlin-1'] };
  const yaml = gitRepoYaml(g);
  t.equal((parseDocument(yaml).toJS() as { kind: string }).kind, 'GitRepo');
  t.same(readFleetResources(yaml, 'back.yaml').gitrepos, [g]);
});

t.test('fleet resources: source credentials by secret name come over; caBundle base64 as Fleet writes it', async (t) => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const r = readFleetResources(`apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata: {name: priv}\nspec: {repo: 'git@example.com:x.git', clientSecretName: creds, helmSecretName: charts, helmRepoURLRegex: '^https://charts', caBundle: ${Buffer.from(pem).toString('base64')}, insecureSkipTLSVerify: true}\n`, 'p.yaml');
  t.same(r.errors, []);
  t.same(r.gitrepos[0], { name: 'priv', repo: 'git@example.com:x.git', clientSecretName: 'creds', helmSecretName: 'charts', helmRepoURLRegex: '^https://charts', caBundle: pem, insecureSkipTLSVerify: true });
  t.match(gitRepoYaml({ ...r.gitrepos[0]!, pollIntervalSeconds: 15 }), /clientSecretName: creds[\s\S]*helmSecretName: charts[\s\S]*caBundle: LS0t/);
});
