// The plans pages and the connection history over plain HTTPS against an in-process server (no
// browser): an admin sees every plan with its per-node states and pause/resume/cancel buttons that
// do what `drover plan pause|resume|cancel` does; a read-only user sees only the plan's nodes on her
// cluster, no buttons, and both the dashboard and the API refuse her the actions. The cluster page
// lists the agent's connects and disconnects. dashboard-plans-browser.test.ts drives the same pages
// in Chromium with real node agents.
import t, { type Test } from 'tap';
import { api, connectTunnel, createToken, registerAgent, serverForTest, type Reply } from '../integration/server-harness.ts';
import { SESSION_COOKIE } from '../../server-lite/ui/session-cookie.ts';

type Server = Awaited<ReturnType<typeof serverForTest>>;

const cookieOf = (r: Reply): string => {
  const c = ([] as string[]).concat(r.headers['set-cookie'] ?? []).find((x) => x.startsWith(`${SESSION_COOKIE}=`));
  if (!c) throw new Error(`no session cookie in ${r.status}`);
  return c.split(';')[0] ?? '';
};
const csrfIn = (page: string): string => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
const post = (server: Server, path: string, cookie: string, fields: Record<string, string>): Promise<Reply> =>
  api(server, 'POST', path, { raw: new URLSearchParams(fields).toString(), contentType: 'application/x-www-form-urlencoded', headers: { cookie, origin: server.url } });
const get = (server: Server, path: string, cookie: string): Promise<Reply> => api(server, 'GET', path, { headers: { cookie } });
const login = async (server: Server, fields: Record<string, string>): Promise<string> => cookieOf(await post(server, '/ui/login', '', fields));

async function setup(t: Test) {
  const server = await serverForTest(t);
  const a = await registerAgent(server, (await createToken(server, { labels: { env: 'prod', fleet: 'plans' } })).secret, { name: 'alpha', hostname: 'alpha', labels: { env: 'prod', fleet: 'plans' } });
  const b = await registerAgent(server, (await createToken(server, { labels: { env: 'dev', fleet: 'plans' } })).secret, { name: 'beta', hostname: 'beta', labels: { env: 'dev', fleet: 'plans' } });
  const admin = server.adminToken;
  t.equal((await api(server, 'POST', '/v1/users', { bearer: admin, body: { name: 'alice', password: 'alice-password' } })).status, 201);
  t.equal((await api(server, 'POST', '/v1/rolebindings', { bearer: admin, body: { user: 'alice', clusterId: a.clusterId, role: 'read-only' } })).status, 201);
  const plan = await api(server, 'POST', '/v1/plans', { bearer: admin, body: { name: 'patch', document: { kind: 'Plan', instructions: [{ command: '/bin/true', timeout: '10s' }] }, target: 'fleet=plans', concurrency: '1' } });
  t.equal(plan.status, 201, plan.text);
  return { server, a, b };
}

const planStatus = async (server: Server) => (await api(server, 'GET', '/v1/plans/patch', { bearer: server.adminToken })).json as { paused: boolean; canceled: boolean; nodes: { name: string; state: string }[] };

t.test('plans: an admin sees the plan, its nodes, and controls it from the page', async (t) => {
  const { server, a, b } = await setup(t);
  const cookie = await login(server, { token: server.adminToken });
  const list = await get(server, '/ui/plans', cookie);
  t.equal(list.status, 200);
  t.match(list.text, /<tr data-plan="patch" data-condition="active">/);
  t.match(list.text, /aria-label="patch nodes by state: 2 Offline"/, 'nodes whose agent is not connected are deferred (Offline)');
  t.match(list.text, /href="\/ui\/plans"[^>]*aria-current="page"/);
  const page = await get(server, '/ui/plans/patch', cookie);
  t.equal(page.status, 200);
  t.match(page.text, new RegExp(`data-cluster="${a.clusterId}" data-state="Offline">\\s*<td>alpha`));
  t.match(page.text, new RegExp(`data-cluster="${b.clusterId}" data-state="Offline">\\s*<td>beta`));
  t.match(page.text, /node agent not connected; deferred until it is back/);
  t.match(page.text, /action="\/ui\/plans\/patch\/pause"/);
  t.match(page.text, /action="\/ui\/plans\/patch\/cancel"/);
  t.notMatch(page.text, /action="\/ui\/plans\/patch\/resume"/, 'no resume while active');
  const csrf = csrfIn(page.text);

  const paused = await post(server, '/ui/plans/patch/pause', cookie, { csrf });
  t.equal(paused.status, 303);
  t.equal(paused.headers.location, '/ui/plans/patch');
  t.equal((await planStatus(server)).paused, true, 'paused, as `drover plan pause` would');
  const after = await get(server, '/ui/plans/patch', cookie);
  t.match(after.text, /data-state="paused"/);
  t.match(after.text, /action="\/ui\/plans\/patch\/resume"/);
  t.equal((await post(server, '/ui/plans/patch/resume', cookie, { csrf })).status, 303);
  t.equal((await planStatus(server)).paused, false);
  t.equal((await post(server, '/ui/plans/patch/cancel', cookie, { csrf })).status, 303);
  t.equal((await planStatus(server)).canceled, true);
  t.notMatch((await get(server, '/ui/plans/patch', cookie)).text, /action="\/ui\/plans\/patch\//, 'a canceled plan offers no actions');
  t.equal((await post(server, '/ui/plans/nothing/pause', cookie, { csrf })).status, 404);
  t.equal((await get(server, '/ui/plans/nothing', cookie)).status, 404);
  await server.ctx.audit.flush();
  const rows = (await api(server, 'GET', '/v1/audit', { bearer: server.adminToken })).json as { verb: string; path: string; status: number }[];
  t.ok(rows.some((r) => r.path === '/ui/plans/patch/pause' && r.status === 303), 'the control is audited');
});

t.test('plans: a read-only user sees only her nodes, no buttons; the dashboard and the API refuse her the actions', async (t) => {
  const { server, a, b } = await setup(t);
  const cookie = await login(server, { username: 'alice', password: 'alice-password' });
  const list = await get(server, '/ui/plans', cookie);
  t.equal(list.status, 200);
  t.match(list.text, /aria-label="patch nodes by state: 1 Offline"/, 'her share of the plan');
  t.match(list.text, /href="\/ui\/plans"/, 'the plans page is in her navigation');
  const page = await get(server, '/ui/plans/patch', cookie);
  t.equal(page.status, 200);
  t.match(page.text, new RegExp(`data-cluster="${a.clusterId}"`));
  t.notMatch(page.text, new RegExp(`data-cluster="${b.clusterId}"`), 'not a node of a cluster she holds no role on');
  t.notMatch(page.text, /\/ui\/plans\/patch\/(pause|resume|cancel)/, 'no pause, resume or cancel button');
  const csrf = csrfIn(page.text);
  for (const action of ['pause', 'resume', 'cancel']) {
    t.equal((await post(server, `/ui/plans/patch/${action}`, cookie, { csrf })).status, 403, `dashboard ${action}`);
  }
  const mine = await api(server, 'POST', '/v1/users/alice/tokens', { bearer: server.adminToken, body: { ttlSeconds: 3600 } });
  const bearer = (mine.json as { token: string }).token;
  for (const action of ['pause', 'cancel']) {
    const r = await api(server, 'POST', `/v1/plans/patch/${action}`, { bearer });
    t.equal(r.status, 403, `API ${action}`);
    t.match(r.json, { error: { code: 'FORBIDDEN' } });
  }
  const s = await planStatus(server);
  t.same([s.paused, s.canceled], [false, false], 'nothing changed');
});

t.test('plans: a user with no cluster in the plan does not see it', async (t) => {
  const { server, b } = await setup(t);
  t.equal((await api(server, 'POST', '/v1/users', { bearer: server.adminToken, body: { name: 'bob', password: 'bob-password' } })).status, 201);
  const cookie = await login(server, { username: 'bob', password: 'bob-password' });
  t.notMatch((await get(server, '/ui/plans', cookie)).text, /data-plan="patch"/);
  t.equal((await get(server, '/ui/plans/patch', cookie)).status, 404);
  t.equal((await api(server, 'POST', '/v1/rolebindings', { bearer: server.adminToken, body: { user: 'bob', clusterId: b.clusterId, role: 'read-only' } })).status, 201);
  t.match((await get(server, '/ui/plans/patch', await login(server, { username: 'bob', password: 'bob-password' }))).text, new RegExp(`data-cluster="${b.clusterId}"`));
});

t.test('cluster page: connection history with connects, disconnects and their reasons', async (t) => {
  const { server, a } = await setup(t);
  const tunnel = await connectTunnel(server, a.credential, 'node');
  await tunnel.ready;
  tunnel.session.close('GOING_AWAY', 'agent stopping');
  await tunnel.closed;
  const cookie = await login(server, { username: 'alice', password: 'alice-password' });
  let page = '';
  for (let i = 0; i < 100 && !/data-kind="disconnect"/.test(page); i++) {
    await server.flush();
    page = (await get(server, `/ui/clusters/${a.clusterId}`, cookie)).text;
  }
  const history = /<table data-testid="connection-history">[\s\S]*?<\/table>/.exec(page)?.[0] ?? '';
  t.match(history, /<tr data-kind="disconnect">[\s\S]*Disconnected[\s\S]*agent closed the tunnel: GOING_AWAY[\s\S]*<tr data-kind="connect">[\s\S]*Connected[\s\S]*node agent connected/, 'newest first, with reasons');
  t.match(history, /alpha <span class="muted">\(node\)<\/span>/, 'the agent by hostname and role');
});
