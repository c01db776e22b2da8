// Issue 20 acceptance, in a real browser: Debian's Chromium driven by puppeteer-core against a
// real server (in-process, so the Offline threshold can be seconds instead of 5 minutes), real
// agents (`drover agent run`) and a real Kubernetes control plane (test/k8s harness, kwok nodes).
// Logs in, filters clusters, opens one, creates and revokes a token, watches a bundle go Ready
// without reloading (server-sent events), sees a cluster shown Offline with its last state after
// its agent stops, and checks that a read-only user sees only her cluster and is denied actions.
// Every page is screenshotted into test/browser/screenshots/ and checked with axe-core, and the
// clusters page is walked with the keyboard.
import t from 'tap';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import type { Page } from 'puppeteer-core';
import { startCluster, tools } from '../k8s/harness.ts';
import { createToken, drover, startAgent, waitFor, type Proc } from '../e2e/agent-helpers.ts';
import { FLEET_AGENT_ENV } from '../e2e/fleet-helpers.ts';
import { api, startTestServer } from '../integration/server-harness.ts';
import { axe, launch, screenshot, teardownInOrder, tabWalk, unlabelledControls } from './browser-helpers.ts';

const OFFLINE_AFTER_MS = 5000;

t.test('dashboard in Chromium: log in, filter, open, tokens, a bundle going Ready, a cluster going Offline, a read-only user', async (t) => {
  // One teardown, in order: browser, agents, server, control plane, files.
  const { dir, stops } = teardownInOrder(t, 'drover-dashboard-browser-');
  const cluster = await startCluster({ nodes: 1 });
  stops.push(() => cluster.stop());
  // The fleet service renders with the harness's tools (read from the environment at start).
  process.env.DROVER_HELM = tools.helm();
  process.env.DROVER_KUSTOMIZE = tools.kustomize();
  const serverDir = path.join(dir, 'server');
  const server = await startTestServer({ dataDir: serverDir, health: { offlineAfterMs: OFFLINE_AFTER_MS } });
  stops.push(() => server.close());
  const admin = server.adminToken;

  // Two clusters with real agents on the real control plane: site-a (prod, fleet + cluster
  // roles) and site-b (dev, cluster role).
  const agents: Record<string, Proc> = {};
  const ids: Record<string, string> = {};
  for (const [name, labels, roles] of [['site-a', 'env=prod,region=eu', 'cluster,fleet'], ['site-b', 'env=dev,region=us', 'cluster']] as const) {
    const agentDir = path.join(dir, name);
    const token = await createToken(serverDir, ['--labels', labels]);
    const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', name, '--labels', labels, '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
    t.equal(reg.exitCode, 0, `register ${name}: ${reg.stderr}`);
    agents[name] = startAgent(agentDir, ['--roles', roles], { ...FLEET_AGENT_ENV });
    stops.push(() => agents[name]?.stop());
  }
  const listed = await waitFor('both clusters Connected with Kubernetes facts', async () => {
    const r = (await api(server, 'GET', '/v1/clusters', { bearer: admin })).json as { id: string; name: string; state: string; kubernetesVersion: string | null }[];
    return r.length === 2 && r.every((c) => c.state === 'Connected' && c.kubernetesVersion) ? r : undefined;
  }, 90_000);
  for (const c of listed) ids[c.name] = c.id;
  const a = ids['site-a'] ?? '';
  const b = ids['site-b'] ?? '';

  // Users: an admin with a password, and alice, read-only on site-b only.
  for (const [name, role] of [['ops', 'admin'], ['alice', 'user']] as const) {
    t.equal((await api(server, 'POST', '/v1/users', { bearer: admin, body: { name, password: `${name}-password`, globalRole: role } })).status, 201);
  }
  t.equal((await api(server, 'POST', '/v1/rolebindings', { bearer: admin, body: { user: 'alice', clusterId: b, role: 'read-only' } })).status, 201);

  // A git repo (targets no cluster) so the git repos page has a commit to show.
  const repo = path.join(dir, 'repo');
  mkdirSync(repo);
  writeFileSync(path.join(repo, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-git}\ndata: {a: "1"}\n');
  const git = (args: string[]) => execa('git', ['-C', repo, ...args], { env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' } });
  await git(['init', '-q', '-b', 'main']);
  await git(['add', '.']);
  await git(['commit', '-qm', 'first']);
  t.equal((await drover(['gitrepo', 'add', 'demo', '--repo', `file://${repo}`, '--target', 'env=none', '--data-dir', serverDir])).exitCode, 0);

  const browser = await launch(server.ctx.tls.certPem);
  stops.push(() => browser.close());
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const url = (p: string) => `${server.url}${p}`;
  const a11y: Record<string, string[]> = {};
  const check = async (p: Page, name: string): Promise<void> => {
    await screenshot(p, name);
    a11y[name] = [...(await axe(p)).map((v) => `${v.id} (${v.impact}): ${v.help} ${v.nodes.slice(0, 3).join(' ')}`), ...(await unlabelledControls(p)).map((c) => `unlabelled: ${c}`)];
  };
  const text = (sel: string) => page.$eval(sel, (e) => e.textContent ?? '');

  // Log in (the password form) after being sent to the login page.
  await page.goto(url('/ui/'));
  t.match(page.url(), /\/ui\/login\?next=/);
  await check(page, '01-login');
  await page.type('#username', 'ops');
  await page.type('#password', 'ops-password');
  await Promise.all([page.waitForNavigation(), page.click('form[aria-labelledby="pw-h"] button[type=submit]')]);
  t.match(page.url(), /\/ui\/clusters$/);
  t.equal(await text('[data-testid=user]'), 'ops');
  const cookies = await browser.cookies();
  const session = cookies.find((c) => c.name === '__Host-drover-ui');
  t.ok(session?.httpOnly && session.secure && session.sameSite === 'Strict', 'HttpOnly, Secure, SameSite=Strict');
  t.equal(await page.evaluate('document.cookie'), '', 'the session is invisible to scripts');
  await page.waitForSelector(`tr[data-cluster="${a}"][data-state="Connected"]`);
  await check(page, '02-clusters');

  // Filter by label with the keyboard only: focus the field, type, Enter.
  await page.focus('#f-labels');
  await page.keyboard.type('env=prod');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  t.ok(await page.$(`tr[data-cluster="${a}"]`), 'site-a matches env=prod');
  t.notOk(await page.$(`tr[data-cluster="${b}"]`), 'site-b does not');
  await check(page, '03-clusters-filtered');
  const walk = await tabWalk(page, 26); // header links (7 pages), log out, filters, then the rows
  t.equal(walk[0]?.name, 'Skip to content', 'the first Tab reaches the skip link');
  t.ok(walk.filter((f) => f.tag !== 'body').every((f) => f.name !== ''), `every focus stop has a name: ${JSON.stringify(walk)}`);
  t.ok(walk.some((f) => f.tag === 'a' && f.name === 'site-a'), 'the cluster link is reachable by Tab');
  t.ok(walk.some((f) => f.tag === 'input' && /Labels/.test(f.name)), `the label filter is reachable by Tab: ${JSON.stringify(walk)}`);

  // Open the cluster.
  await Promise.all([page.waitForNavigation(), page.click(`tr[data-cluster="${a}"] a`)]);
  t.match(await text('h1'), 'site-a');
  t.match(await text('#live'), /Kubernetes[\s\S]*v1\.34/, 'the Kubernetes version its agent reported');
  await check(page, '04-cluster');

  // Create an API token (shown once, with a copy button), then revoke it.
  await page.goto(url('/ui/tokens'));
  await page.type('#api-desc', 'browser test');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/ui/tokens/api"] button')]);
  const secret = await page.$eval('#new-secret', (e) => (e as unknown as { value: string }).value);
  t.match(secret, /^t-[a-z2-7]{10}\.[a-z2-7]{40}$/);
  const id = secret.split('.')[0] ?? '';
  t.equal(((await api(server, 'GET', '/v1/whoami', { bearer: secret })).json as { user: string }).user, 'ops', 'the new token works');
  await page.click('button[data-copy="new-secret"]');
  await page.waitForFunction(`document.querySelector('button[data-copy="new-secret"]').textContent === 'Copied'`);
  await check(page, '05-token-created');
  await Promise.all([page.waitForNavigation(), page.click(`tr[data-token="${id}"] button.danger`)]);
  t.ok(await page.$(`tr[data-token="${id}"][data-state="revoked"]`), 'shown revoked');
  t.equal((await api(server, 'GET', '/v1/whoami', { bearer: secret })).status, 401, 'and refused by the API');
  await check(page, '06-token-revoked');

  // A bundle targeting env=prod: watch it go Ready on its page without reloading.
  const bundle = path.join(dir, 'bundle');
  mkdirSync(bundle);
  writeFileSync(path.join(bundle, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: dash-web}\n');
  writeFileSync(path.join(bundle, 'web.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: dash-web}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: registry.example/web:1.0}]}\n');
  const applied = await drover(['bundle', 'apply', bundle, '--name', 'web', '--target', 'env=prod', '--data-dir', serverDir]);
  t.equal(applied.exitCode, 0, applied.stderr);
  await page.goto(url('/ui/bundles/web'));
  await page.evaluate('window.__sameDocument = true');
  const seen = new Set<string>();
  await waitFor('the bundle Ready on site-a in the open page', async () => {
    const s = (await page.evaluate(`(document.querySelector('tr[data-cluster="${a}"]') || {}).dataset?.state || ''`)) as string;
    if (s) seen.add(s);
    return s === 'Ready';
  }, 120_000);
  t.equal(await page.evaluate('window.__sameDocument'), true, 'updated live (server-sent events), not reloaded');
  t.comment(`states seen on the open page: ${[...seen].join(' → ')}`);
  await check(page, '07-bundle-ready');
  await page.goto(url('/ui/bundles'));
  t.ok(await page.$('tr[data-bundle="web"][data-state="Ready"]'));
  t.ok(await page.$('svg[aria-label^="Bundle deployments by state"]'), 'the readiness picture');
  await check(page, '08-bundles');
  await page.goto(url('/ui/gitrepos'));
  await page.waitForFunction(`!!document.querySelector('tr[data-gitrepo="demo"]') && !/none yet/.test(document.querySelector('tr[data-gitrepo="demo"]').textContent)`, { timeout: 60_000 });
  await check(page, '09-gitrepos');
  await page.goto(url('/ui/audit?user=ops&verify=1'));
  t.ok(await page.$('[data-testid=chain-ok]'), 'the audit chain verifies');
  t.match(await text('#live tbody'), /\/ui\/tokens\/api/, 'the dashboard\'s own actions are in the trail');
  await check(page, '10-audit');

  // Stop site-a's agents: the open clusters page turns it Offline with its last state.
  await page.goto(url('/ui/clusters'));
  await page.evaluate('window.__sameDocument = true');
  await agents['site-a']?.stop();
  await page.waitForSelector(`tr[data-cluster="${a}"][data-state="Offline"]`, { timeout: 60_000 });
  t.equal(await page.evaluate('window.__sameDocument'), true, 'Offline arrived live');
  const row = await text(`tr[data-cluster="${a}"]`);
  t.match(row, /since/, 'says since when');
  t.match(row, /last reported: 1 Ready/, 'keeps the last-known bundle state');
  await check(page, '11-clusters-offline');
  await page.goto(url(`/ui/clusters/${a}`));
  t.match(await text('[data-testid=offline-notice]'), /Offline since/);
  t.match(await text('tr[data-bundle="web"]'), /last reported Ready/, 'the bundle\'s last report');
  t.match(await text('#live'), /v1\.34/, 'Kubernetes facts kept from before');
  await check(page, '12-cluster-offline');

  // Log out; alice (read-only on site-b) sees only site-b and no admin pages or buttons.
  await Promise.all([page.waitForNavigation(), page.click('header form[action="/ui/logout"] button')]);
  t.match(page.url(), /\/ui\/login$/);
  await page.type('#username', 'alice');
  await page.type('#password', 'alice-password');
  await Promise.all([page.waitForNavigation(), page.click('form[aria-labelledby="pw-h"] button[type=submit]')]);
  t.ok(await page.$(`tr[data-cluster="${b}"]`));
  t.notOk(await page.$(`tr[data-cluster="${a}"]`), 'not a cluster she holds no role on');
  t.notOk(await page.$('a[href="/ui/bundles"], a[href="/ui/audit"]'), 'no admin navigation');
  await check(page, '13-readonly-clusters');
  await page.goto(url('/ui/tokens'));
  t.notOk(await page.$('form[action="/ui/tokens/join"]'), 'no join-token form');
  await check(page, '14-readonly-tokens');
  const denied = await page.goto(url('/ui/audit'));
  t.equal(denied?.status(), 403);
  await check(page, '15-readonly-denied');
  const other = await page.goto(url(`/ui/clusters/${a}`));
  t.equal(other?.status(), 404);
  // A forged request from her session (no CSRF token) is refused, and so is one with her CSRF
  // token for something only admins may do.
  await page.goto(url('/ui/tokens'));
  const forged = await page.evaluate(`fetch('/ui/tokens/join', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'uses=1&ttlSeconds=86400' }).then((r) => r.status)`);
  t.equal(forged, 403, 'no CSRF token');
  const withCsrf = await page.evaluate(`fetch('/ui/tokens/join', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'uses=1&ttlSeconds=86400&csrf=' + encodeURIComponent(document.querySelector('input[name=csrf]').value) }).then((r) => r.status)`);
  t.equal(withCsrf, 403, 'not an admin');
  t.equal(((await api(server, 'GET', '/v1/tokens', { bearer: admin })).json as unknown[]).length, 2, 'no join token was created');

  for (const [name, problems] of Object.entries(a11y)) t.same(problems, [], `accessibility of ${name}`);
});
