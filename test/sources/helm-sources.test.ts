// Helm charts as users keep them (issue 19), against real servers: a Helm repository over HTTPS
// with basic auth (lighttpd; `helm package` + `helm repo index`), the CNCF distribution registry
// with htpasswd auth (`helm push` to oci://), and a chart with values files inside a private git
// repository. Version ranges resolve and the resolved version is reported; wrong credentials and
// a missing version are distinct errors; the password is never on helm's command line.
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { tools } from '../k8s/harness.ts';
import { discoverBundles } from '../../server-lite/fleet/discovery.ts';
import { renderBundle } from '../../server-lite/fleet/render-bundle.ts';
import { resolveTargets, type ClusterInfo } from '../../server-lite/fleet/targeting.ts';
import { helmAccessFor, type HelmAccessSpec } from '../../server-lite/fleet/helm-access.ts';
import { ChartCache } from '../../server-lite/fleet/chart-cache.ts';
import type { RenderTools } from '../../server-lite/fleet/tools.ts';
import { GitPoller } from '../../server-lite/fleet/git-poller.ts';
import { gitCredentials } from '../../server-lite/fleet/source-secrets.ts';
import { SecretStore } from '../../server-lite/secrets-store/secret-store.ts';
import { bareRepo, makeTls, startHttpsServer, startRegistry } from './servers.ts';
import { workingCopy } from './git-repo.ts';

const PASSWORD = 'chart-pw-5e2b-never-on-argv';
const clusters: ClusterInfo[] = [{ id: 'c1', name: 'site-1', labels: { env: 'edge' } }];

const root = mkdtempSync(join(tmpdir(), 'drover-helm-sources-'));
mkdirSync(join(root, 'server'), { mode: 0o700 });
const store = new SecretStore(join(root, 'server'));
const argvLog = join(root, 'helm-argv.log');
const helmWrapper = join(root, 'helm');
writeFileSync(helmWrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec '${tools.helm()}' "$@"\n`);
chmodSync(helmWrapper, 0o755);
const ca = makeTls(root);
// Renders make their throwaway directories here, so the test can see none is left behind.
const renderTmp = join(root, 'tmp');
mkdirSync(renderTmp);
process.env.TMPDIR = renderTmp;
t.teardown(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, 'tree-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const chartFiles = (version: string) => ({
  'Chart.yaml': `apiVersion: v2\nname: web\nversion: ${version}\n`,
  'values.yaml': 'color: chart-default\n',
  'templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: {{ .Release.Name }} }\ndata: { color: {{ .Values.color | quote }}, chart: {{ .Chart.Version | quote }} }\n',
});

/** web-0.1.0.tgz and web-0.2.0.tgz in a new directory. */
function packagedCharts(): string {
  const out = mkdtempSync(join(root, 'pkg-'));
  for (const v of ['0.1.0', '0.2.0']) {
    const src = tree(Object.fromEntries(Object.entries(chartFiles(v)).map(([k, x]) => [`web/${k}`, x])));
    execFileSync(tools.helm(), ['package', join(src, 'web'), '-d', out], { env: helmEnv(root) });
  }
  return out;
}

function helmEnv(home: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: home, HELM_CACHE_HOME: join(home, '.hc'), HELM_CONFIG_HOME: join(home, '.hcfg'), HELM_DATA_HOME: join(home, '.hd') };
}

async function render(fleetYaml: string, spec: HelmAccessSpec) {
  const dir = tree({ 'fleet.yaml': fleetYaml });
  const charts = new Map<string, { chart: string; version: string }>();
  const renderTools: RenderTools = { helm: () => helmWrapper, kustomize: () => tools.kustomize(), helmSource: helmAccessFor('src', spec, store, charts) };
  const [bundle] = await discoverBundles(dir, { prefix: 'remote' });
  if (!bundle) throw new Error('no bundle');
  const rendered = await renderBundle(bundle, resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters, groups: [] }).deployments, renderTools);
  const cm = rendered[0]?.set.objects.find((o) => o.object.kind === 'ConfigMap')?.object as { data?: Record<string, string> } | undefined;
  return { data: cm?.data, resolved: charts.get(bundle.name) };
}

const code = async (p: Promise<unknown>): Promise<string> => p.then(() => 'OK', (e: unknown) => String((e as { code?: string }).code ?? (e as Error).message));

t.test('helm repository over HTTPS with basic auth: range resolved and reported, auth and missing version told apart', async (t) => {
  const server = await startHttpsServer('charts', PASSWORD, ca);
  t.teardown(() => server.stop());
  const pkg = packagedCharts();
  for (const f of readdirSync(pkg)) writeFileSync(join(server.chartsDir, f), readFileSync(join(pkg, f)));
  execFileSync(tools.helm(), ['repo', 'index', server.chartsDir, '--url', `${server.url}/charts`], { env: helmEnv(root) });
  const repo = `${server.url}/charts`;
  store.put({ name: 'charts', type: 'basic-auth', data: { username: 'charts', password: PASSWORD, caBundle: ca.caPem } }, 1);

  const ranged = await render(`helm:\n  repo: ${repo}\n  chart: web\n  version: ">=0.1.0 <1.0.0"\n  values: { color: blue }\n`, { helmSecretName: 'charts' });
  t.same(ranged.data, { color: 'blue', chart: '0.2.0' });
  t.same(ranged.resolved, { chart: 'web', version: '0.2.0' }, 'the resolved version is reported');
  t.equal((await render(`helm:\n  repo: ${repo}\n  chart: web\n  version: 0.1.0\n`, { helmSecretName: 'charts' })).data?.chart, '0.1.0', 'an exact version');

  t.equal(await code(render(`helm:\n  repo: ${repo}\n  chart: web\n  version: 9.9.9\n`, { helmSecretName: 'charts' })), 'HELM_CHART_NOT_FOUND');
  t.equal(await code(render(`helm:\n  repo: ${repo}\n  chart: nope\n`, { helmSecretName: 'charts' })), 'HELM_CHART_NOT_FOUND');
  store.put({ name: 'charts-wrong', type: 'basic-auth', data: { username: 'charts', password: 'wrong', caBundle: ca.caPem } }, 2);
  t.equal(await code(render(`helm:\n  repo: ${repo}\n  chart: web\n`, { helmSecretName: 'charts-wrong' })), 'HELM_REPO_AUTH_FAILED');
  t.equal(await code(render(`helm:\n  repo: ${repo}\n  chart: web\n`, { helmSecretName: 'charts', helmRepoURLRegex: '^https://charts\\.example\\.com/', caBundle: ca.caPem })), 'HELM_REPO_AUTH_FAILED', 'helmRepoURLRegex not matching: no credentials sent');
  t.equal((await render(`helm:\n  repo: ${repo}\n  chart: web\n`, { helmSecretName: 'charts', helmRepoURLRegex: '^https://127\\.0\\.0\\.1:' })).resolved?.version, '0.2.0', 'helmRepoURLRegex matching; no version: the newest');
  t.equal(await code(render(`helm:\n  repo: ${repo}\n  chart: web\n`, { helmSecretName: 'missing' })), 'GIT_CREDENTIALS_MISSING');
  store.put({ name: 'charts-no-ca', type: 'basic-auth', data: { username: 'charts', password: PASSWORD } }, 3);
  t.equal(await code(render(`helm:\n  repo: ${repo}\n  chart: web\n`, { helmSecretName: 'charts-no-ca' })), 'HELM_REPO_TLS_FAILED', 'no CA: the test CA is not trusted');
  t.equal((await render(`helm:\n  repo: ${repo}\n  chart: web\n`, { helmSecretName: 'charts-no-ca', insecureSkipTLSVerify: true })).resolved?.version, '0.2.0', 'insecureSkipTLSVerify');
  t.notMatch(readFileSync(argvLog, 'utf8'), new RegExp(PASSWORD), 'the password was never on a helm command line');
  t.same(readdirSync(renderTmp).filter((f) => f.startsWith('drover-helm-')), [], 'no render directory (repositories.yaml, CA files) is left behind');
});

t.test('OCI registry (distribution, htpasswd): oci:// chart with a version range, auth and missing version told apart', async (t) => {
  const registry = await startRegistry('pusher', PASSWORD, ca);
  t.teardown(() => registry.stop());
  const pkg = packagedCharts();
  const home = mkdtempSync(join(root, 'push-'));
  const caFile = join(root, 'ca.crt');
  execFileSync(tools.helm(), ['registry', 'login', registry.host, '--username', 'pusher', '--password-stdin', '--ca-file', caFile], { input: PASSWORD, env: helmEnv(home) });
  for (const v of ['0.1.0', '0.2.0']) execFileSync(tools.helm(), ['push', join(pkg, `web-${v}.tgz`), `oci://${registry.host}/charts`, '--ca-file', caFile], { env: helmEnv(home) });
  const chart = `oci://${registry.host}/charts/web`;
  store.put({ name: 'oci', type: 'basic-auth', data: { username: 'pusher', password: PASSWORD, caBundle: ca.caPem } }, 1);

  const ranged = await render(`helm:\n  chart: ${chart}\n  version: "~0.1"\n  values: { color: oci }\n`, { helmSecretName: 'oci' });
  t.same([ranged.data, ranged.resolved], [{ color: 'oci', chart: '0.1.0' }, { chart: 'web', version: '0.1.0' }], '~0.1 resolves to 0.1.0');
  t.equal((await render(`helm:\n  chart: ${chart}\n  version: ">=0.1.0"\n`, { helmSecretName: 'oci' })).resolved?.version, '0.2.0');
  t.equal(await code(render(`helm:\n  chart: ${chart}\n  version: 3.0.0\n`, { helmSecretName: 'oci' })), 'HELM_CHART_NOT_FOUND');
  store.put({ name: 'oci-token', type: 'token', data: { username: 'pusher', token: PASSWORD, caBundle: ca.caPem } }, 3);
  t.equal((await render(`helm:\n  chart: ${chart}\n  version: 0.1.0\n`, { helmSecretName: 'oci-token' })).resolved?.version, '0.1.0', 'a token secret');
  store.put({ name: 'oci-wrong', type: 'basic-auth', data: { username: 'pusher', password: 'wrong', caBundle: ca.caPem } }, 2);
  t.equal(await code(render(`helm:\n  chart: ${chart}\n  version: 0.1.0\n`, { helmSecretName: 'oci-wrong' })), 'HELM_REPO_AUTH_FAILED');
  t.equal(await code(render(`helm:\n  chart: ${chart}\n  version: 0.1.0\n`, { caBundle: ca.caPem })), 'HELM_REPO_AUTH_FAILED', 'no credentials at all');

  // Six clusters with distinct values (six helm runs) share one pull per render pass.
  const many: ClusterInfo[] = Array.from({ length: 6 }, (_, i) => ({ id: `c${i}`, name: `site-${i}`, labels: {} }));
  const dir = tree({ 'fleet.yaml': `helm:\n  chart: ${chart}\n  version: "~0.1"\n  values: { color: "\${ .ClusterName }" }\n` });
  const [bundle] = await discoverBundles(dir, { prefix: 'many' });
  if (!bundle) throw new Error('no bundle');
  const cache = new ChartCache();
  const pullsBefore = readFileSync(argvLog, 'utf8').split('\n').filter((l) => l.startsWith('pull ')).length;
  const rendered = await renderBundle(bundle, resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters: many, groups: [] }).deployments,
    { helm: () => helmWrapper, kustomize: () => tools.kustomize(), helmSource: helmAccessFor('src', { helmSecretName: 'oci' }, store, undefined, cache) });
  t.same(rendered.map((r) => (r.set.objects[0]?.object as { data?: { color?: string } }).data?.color), many.map((c) => c.name), 'each cluster its own values');
  t.equal(cache.pulls, 1, 'one pull for six helm runs');
  t.equal(readFileSync(argvLog, 'utf8').split('\n').filter((l) => l.startsWith('pull ')).length - pullsBefore, 1, 'helm pull ran once');
  await cache.dispose();
  t.same(readdirSync(renderTmp).filter((f) => f.startsWith('drover-charts-')), [], 'the shared charts are removed after the pass');

  t.notMatch(readFileSync(argvLog, 'utf8'), new RegExp(PASSWORD), 'the password was never on a helm command line');
  t.same(readdirSync(renderTmp).filter((f) => f.startsWith('drover-helm-')), [], 'no render directory (registry config, CA files) is left behind');
});

t.test('a chart with valuesFiles inside a private git repository (HTTPS, basic auth)', async (t) => {
  const server = await startHttpsServer('deploy', PASSWORD, ca);
  t.teardown(() => server.stop());
  const wc = workingCopy(bareRepo(server.reposDir, 'charts.git'));
  t.teardown(() => wc.remove());
  const files: Record<string, string> = Object.fromEntries(Object.entries(chartFiles('1.4.2')).map(([k, v]) => [`app/chart/${k}`, v]));
  const head = wc.commit({ ...files, 'app/fleet.yaml': 'helm:\n  chart: ./chart\n  valuesFiles: [values-edge.yaml]\n', 'app/values-edge.yaml': 'color: from-values-file\n' }, 'chart');
  store.put({ name: 'git', type: 'basic-auth', data: { username: 'deploy', password: PASSWORD, caBundle: ca.caPem } }, 1);
  const repo = `${server.url}/git/charts.git`;
  const workDir = join(root, 'chart-checkout');
  const poll = await new GitPoller({ name: 'priv', repo, branch: 'main', paths: ['app'], workDir, timers: { setTimeout: () => 0, clearTimeout: () => {} }, credentials: () => gitCredentials(repo, { clientSecretName: 'git' }, store, join(root, 'server'), 'priv') }).pollNow();
  t.same([poll.error?.message, poll.commit], [undefined, head]);
  const bundle = poll.bundles[0];
  if (!bundle) throw new Error('no bundle');
  const rendered = await renderBundle(bundle, resolveTargets({ bundle: bundle.name, fleetYaml: bundle.fleetYaml, clusters, groups: [] }).deployments, { helm: () => tools.helm(), kustomize: () => tools.kustomize() });
  const cm = rendered[0]?.set.objects.find((o) => o.object.kind === 'ConfigMap')?.object as { data?: Record<string, string> } | undefined;
  t.same(cm?.data, { color: 'from-values-file', chart: '1.4.2' });
});
