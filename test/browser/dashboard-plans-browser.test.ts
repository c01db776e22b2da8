// Issue 20, plans and connection history in a real browser: Debian's Chromium via puppeteer-core
// against a real in-process server and two real node agents (`drover agent run --roles node`).
// An admin watches a plan run node by node on the open page (server-sent events), pauses, resumes
// and cancels another with the page's buttons (checked against GET /v1/plans/NAME, as `drover plan
// status` reads it), and sees the cluster page list the agent's disconnect after it stops. The
// read-only user sees only her node, no buttons, and both the dashboard and the API refuse her the
// actions. Screenshots (test/browser/screenshots/2N-*.png) and axe-core on every page.
import t from 'tap';
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Page } from 'puppeteer-core';
import { createToken, drover, startAgent, waitFor, type Proc } from '../e2e/agent-helpers.ts';
import { api, startTestServer } from '../integration/server-harness.ts';
import { makeRelease, scriptExe, testKey } from '../e2e/upgrade-helpers.ts';
import { axe, launch, screenshot, teardownInOrder, unlabelledControls } from './browser-helpers.ts';

t.test('dashboard in Chromium: a plan rolling out live, pause/resume/cancel, connection history, a read-only user', async (t) => {
  // One teardown, in order: browser, agents, server, files.
  const { dir, stops } = teardownInOrder(t, 'drover-dashboard-plans-');
  // Plan delivery every 200 ms instead of seconds (read by the plan service at start).
  process.env.DROVER_PLAN_SYNC_MS = '200';
  // Release signatures are checked with this key (read at start): the upgrades page shows a release.
  const key = testKey(dir);
  process.env.DROVER_RELEASE_PUBLIC_KEY = key.publicFile;
  const serverDir = path.join(dir, 'server');
  const server = await startTestServer({ dataDir: serverDir, health: { offlineAfterMs: 5000 } });
  stops.push(() => server.close());
  const admin = server.adminToken;

  const agents: Record<string, Proc> = {};
  for (const [name, labels] of [['edge-a', 'site=a,fleet=plans'], ['edge-b', 'site=b,fleet=plans']] as const) {
    const agentDir = path.join(dir, name);
    const token = await createToken(serverDir, ['--labels', labels]);
    const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', name, '--labels', labels, '--data-dir', agentDir]);
    t.equal(reg.exitCode, 0, `register ${name}: ${reg.stderr}`);
    agents[name] = startAgent(agentDir, ['--roles', 'node'], { DROVER_NODE_PLAN_SCAN_MS: '200' });
    stops.push(() => agents[name]?.stop());
  }
  const clusters = await waitFor('both clusters Connected', async () => {
    const r = (await api(server, 'GET', '/v1/clusters', { bearer: admin })).json as { id: string; name: string; state: string }[];
    return r.length === 2 && r.every((c) => c.state === 'Connected') ? new Map(r.map((c) => [c.name, c.id])) : undefined;
  }, 60_000);
  const a = clusters.get('edge-a') ?? '';
  const b = clusters.get('edge-b') ?? '';
  for (const [name, role] of [['ops', 'admin'], ['alice', 'user']] as const) {
    t.equal((await api(server, 'POST', '/v1/users', { bearer: admin, body: { name, password: `${name}-password`, globalRole: role } })).status, 201);
  }
  t.equal((await api(server, 'POST', '/v1/rolebindings', { bearer: admin, body: { user: 'alice', clusterId: b, role: 'read-only' } })).status, 201);

  const planFile = (name: string, body: string): string => {
    const f = path.join(dir, `${name}.yaml`);
    writeFileSync(f, `kind: Plan\n${body}`);
    return f;
  };
  const status = async (name: string) => (await api(server, 'GET', `/v1/plans/${name}`, { bearer: admin })).json as { paused: boolean; canceled: boolean; summary: Record<string, number> };

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
  const state = (sel: string) => page.evaluate(`(document.querySelector('${sel}') || { dataset: {} }).dataset.state || ''`) as Promise<string>;

  await page.goto(url('/ui/login'));
  await page.type('#username', 'ops');
  await page.type('#password', 'ops-password');
  await Promise.all([page.waitForNavigation(), page.click('form[aria-labelledby="pw-h"] button[type=submit]')]);

  // A plan, one node at a time: watch both nodes reach Succeeded on the open page.
  const applied = await drover(['plan', 'apply', planFile('rollout', 'instructions:\n  - {command: /bin/sh, args: ["-c", "sleep 1"], timeout: 30s}\n'), '--name', 'rollout', '--target', 'fleet=plans', '--concurrency', '1', '--data-dir', serverDir]);
  t.equal(applied.exitCode, 0, applied.stderr);
  await page.goto(url('/ui/plans/rollout'));
  await page.evaluate('window.__sameDocument = true');
  const seen = new Set<string>();
  await waitFor('both nodes Succeeded on the open page', async () => {
    const states = [await state(`tr[data-cluster="${a}"]`), await state(`tr[data-cluster="${b}"]`)];
    states.forEach((s) => s && seen.add(s));
    return states.every((s) => s === 'Succeeded');
  }, 120_000);
  t.equal(await page.evaluate('window.__sameDocument'), true, 'updated live (server-sent events), not reloaded');
  t.comment(`node states seen on the open page: ${[...seen].join(', ')}`);
  t.ok(seen.size > 1, 'the page showed the rollout under way, not only its end');
  t.match(await page.$eval('#live', (e) => e.textContent ?? ''), /2\/2/, 'progress: 2 of 2 succeeded');
  await check(page, '21-plan-succeeded');

  // A plan held by a maintenance window that is not open: pause, resume and cancel with the buttons.
  const now = new Date();
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60_000);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][(local.getUTCDay() + 2) % 7];
  t.equal((await drover(['plan', 'apply', planFile('held', 'instructions:\n  - {command: /bin/true, timeout: 10s}\n'), '--name', 'held', '--target', 'fleet=plans', '--window', `${day} 01:00-02:00`, '--data-dir', serverDir])).exitCode, 0);
  await page.goto(url('/ui/plans/held'));
  await page.waitForFunction(`/maintenance window/.test(document.querySelector('#live').textContent)`, { timeout: 60_000 });
  await check(page, '22-plan-held');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/ui/plans/held/pause"] button')]);
  t.ok(await page.$('[data-testid=plan-actions] form[action="/ui/plans/held/resume"]'), 'Resume offered once paused');
  t.equal((await status('held')).paused, true, 'paused, as the API reports it');
  await check(page, '23-plan-paused');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/ui/plans/held/resume"] button')]);
  t.equal((await status('held')).paused, false, 'resumed');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/ui/plans/held/cancel"] button')]);
  t.equal((await status('held')).canceled, true, 'canceled');
  t.notOk(await page.$('[data-testid=plan-actions]'), 'no buttons on a canceled plan');
  await page.goto(url('/ui/plans'));
  t.ok(await page.$('tr[data-plan="rollout"][data-condition="active"]'));
  t.ok(await page.$('tr[data-plan="held"][data-condition="canceled"]'));
  t.ok(await page.$('svg[aria-label="rollout nodes by state: 2 Succeeded"]'), 'the state picture');
  await check(page, '24-plans');

  // The upgrades page: a signed release imported as `drover release import` does, and a rollout
  // that targets no agent here (these agents run from the checkout and are not to be replaced).
  const rel = makeRelease(path.join(dir, 'release'), '9.9.9', scriptExe('9.9.9'), key);
  const imported = await api(server, 'POST', '/v1/releases/9.9.9/drover-linux-amd64', {
    bearer: admin, raw: readFileSync(path.join(rel, 'drover-linux-amd64')), contentType: 'application/octet-stream',
    headers: { 'x-drover-sums': readFileSync(path.join(rel, 'sha256sums')).toString('base64'), 'x-drover-signature': readFileSync(path.join(rel, 'sha256sums.sig'), 'utf8').trim() },
  });
  t.equal(imported.status, 201, imported.text);
  t.equal((await api(server, 'POST', '/v1/upgrades', { bearer: admin, body: { version: '9.9.9', target: 'site=nowhere' } })).status, 201);
  await page.goto(url('/ui/upgrades'));
  t.ok(await page.$('tr[data-release="9.9.9/amd64"]'), 'the release');
  t.ok(await page.$('[data-testid=rollout]'), 'the rollout');
  await check(page, '28-upgrades');

  // Connection history: the agent's connect, then its disconnect after it stops, on the open page.
  await page.goto(url(`/ui/clusters/${a}`));
  await page.waitForSelector('[data-testid=connection-history] tr[data-kind="connect"]', { timeout: 30_000 });
  await page.evaluate('window.__sameDocument = true');
  await agents['edge-a']?.stop();
  await page.waitForSelector('[data-testid=connection-history] tr[data-kind="disconnect"]', { timeout: 60_000 });
  t.equal(await page.evaluate('window.__sameDocument'), true, 'the disconnect arrived live');
  t.match(await page.$eval('[data-testid=connection-history] tr[data-kind="disconnect"]', (e) => e.textContent ?? ''), /Disconnected.*\(node\).*closed the tunnel/s);
  await check(page, '25-cluster-connection-history');

  // alice (read-only on edge-b): her node only, no buttons; the dashboard and the API refuse her.
  await Promise.all([page.waitForNavigation(), page.click('header form[action="/ui/logout"] button')]);
  await page.type('#username', 'alice');
  await page.type('#password', 'alice-password');
  await Promise.all([page.waitForNavigation(), page.click('form[aria-labelledby="pw-h"] button[type=submit]')]);
  await page.goto(url('/ui/plans'));
  t.ok(await page.$('svg[aria-label="rollout nodes by state: 1 Succeeded"]'), 'her share of the plan');
  await check(page, '26-readonly-plans');
  await page.goto(url('/ui/plans/held'));
  t.ok(await page.$(`tr[data-cluster="${b}"]`));
  t.notOk(await page.$(`tr[data-cluster="${a}"]`), 'not a node of a cluster she holds no role on');
  t.notOk(await page.$('form[action^="/ui/plans/held/"]'), 'no pause, resume or cancel button');
  await check(page, '27-readonly-plan');
  const refused = await page.evaluate(`fetch('/ui/plans/rollout/pause', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=' + encodeURIComponent(document.querySelector('input[name=csrf]').value) }).then((r) => r.status)`);
  t.equal(refused, 403, 'the dashboard refuses her, with her own CSRF token');
  const token = ((await api(server, 'POST', '/v1/users/alice/tokens', { bearer: admin, body: { ttlSeconds: 3600 } })).json as { token: string }).token;
  t.equal((await api(server, 'POST', '/v1/plans/rollout/pause', { bearer: token })).status, 403, 'and so does the API');
  t.equal((await status('rollout')).paused, false, 'nothing changed');

  for (const [name, problems] of Object.entries(a11y)) t.same(problems, [], `accessibility of ${name}`);
});
