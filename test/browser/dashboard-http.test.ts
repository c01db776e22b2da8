// The dashboard over plain HTTPS against an in-process server (no browser): sessions, CSRF, the
// Content-Security-Policy, role checks (a read-only user sees only her cluster and cannot act),
// logout, kubeconfig download and the audit rows. The browser tests (dashboard-browser.test.ts)
// drive the same pages in Chromium.
import t, { type Test } from 'tap';
import { api, createToken, registerAgent, serverForTest, type Reply } from '../integration/server-harness.ts';
import { SESSION_COOKIE } from '../../server-lite/ui/session-cookie.ts';

type Server = Awaited<ReturnType<typeof serverForTest>>;

const cookieOf = (r: Reply): string => {
  const set = ([] as string[]).concat(r.headers['set-cookie'] ?? []);
  const c = set.find((x) => x.startsWith(`${SESSION_COOKIE}=`));
  if (!c) throw new Error(`no session cookie in ${r.status} ${JSON.stringify(r.headers)}`);
  return c.split(';')[0] ?? '';
};
const csrfIn = (page: string): string => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

async function post(server: Server, path: string, cookie: string, fields: Record<string, string>, origin: string = server.url): Promise<Reply> {
  return api(server, 'POST', path, { raw: form(fields), contentType: 'application/x-www-form-urlencoded', headers: { cookie, origin } });
}
const get = (server: Server, path: string, cookie?: string): Promise<Reply> => api(server, 'GET', path, cookie ? { headers: { cookie } } : {});

async function loginToken(server: Server, token: string): Promise<string> {
  const r = await post(server, '/ui/login', '', { token, next: '/ui/clusters' });
  if (r.status !== 303) throw new Error(`login failed: ${r.status} ${r.text.slice(0, 300)}`);
  return cookieOf(r);
}

async function setup(t: Test) {
  const server = await serverForTest(t);
  const a = await registerAgent(server, (await createToken(server)).secret, { name: 'alpha', labels: { env: 'prod' } });
  const b = await registerAgent(server, (await createToken(server)).secret, { name: 'beta', labels: { env: 'dev' } });
  const admin = server.adminToken;
  t.equal((await api(server, 'POST', '/v1/users', { bearer: admin, body: { name: 'alice', password: 'alice-password' } })).status, 201);
  t.equal((await api(server, 'POST', '/v1/rolebindings', { bearer: admin, body: { user: 'alice', clusterId: a.clusterId, role: 'read-only' } })).status, 201);
  return { server, a, b };
}

t.test('dashboard: pages need a session, carry a strict CSP and no inline script or style', async (t) => {
  const { server, a } = await setup(t);
  const anon = await get(server, '/ui/clusters?state=Offline');
  t.equal(anon.status, 303);
  t.equal(anon.headers.location, '/ui/login?next=%2Fui%2Fclusters%3Fstate%3DOffline');
  const login = await get(server, '/ui/login');
  t.equal(login.status, 200);
  const csp = String(login.headers['content-security-policy']);
  t.match(csp, /default-src 'none'/);
  t.match(csp, /script-src 'self'/);
  t.notMatch(csp, /unsafe-inline|unsafe-eval/);
  t.match(String(login.headers['x-frame-options']), /DENY/);

  const cookie = await loginToken(server, server.adminToken);
  const page = await get(server, '/ui/clusters', cookie);
  t.equal(page.status, 200);
  t.match(page.text, /alpha/);
  t.match(page.text, /beta/);
  t.notMatch(page.text, /<script>|<script [^>]*>[^<]/, 'no inline script');
  t.notMatch(page.text, /\sstyle=|<style/, 'no inline style');
  t.notMatch(page.text, /\son[a-z]+=/, 'no inline event handlers');
  t.match(page.text, /aria-label="All clusters by state over time: 1 samples from [^"]*; now 0 Connected, 0 Stale, 2 Offline"/, 'states over time, sampled when the page was built');
  const filtered = await get(server, '/ui/clusters?labels=env%3Dprod', cookie);
  t.match(filtered.text, /alpha/);
  t.notMatch(filtered.text, /beta/);
  const detail = await get(server, `/ui/clusters/${a.clusterId}`, cookie);
  t.equal(detail.status, 200);
  t.match(detail.text, /Download kubeconfig/);
  for (const p of ['/ui/bundles', '/ui/gitrepos', '/ui/audit', '/ui/audit?verify=1', '/ui/tokens']) t.equal((await get(server, p, cookie)).status, 200, p);
  t.match((await get(server, '/ui/audit?verify=1', cookie)).text, /Chain intact/);
  const asset = /href="(\/ui\/assets\/[^"]+)"/.exec(page.text)?.[1] ?? '';
  t.equal((await get(server, asset)).status, 200, 'assets need no session');
});

t.test('dashboard: the session cookie is HttpOnly, Secure, SameSite=Strict; a bad token or password is refused', async (t) => {
  const { server } = await setup(t);
  const r = await post(server, '/ui/login', '', { username: 'alice', password: 'alice-password' });
  t.equal(r.status, 303);
  const set = String(([] as string[]).concat(r.headers['set-cookie'] ?? [])[0]);
  for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict']) t.match(set, attr);
  t.equal((await post(server, '/ui/login', '', { username: 'alice', password: 'wrong-password' })).status, 401);
  t.equal((await post(server, '/ui/login', '', { token: 't-aaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' })).status, 401);
  t.equal((await post(server, '/ui/login', '', { token: server.adminToken }, 'https://evil.example')).status, 403, 'login posted from another site');
});

t.test('dashboard: a read-only user sees only her clusters, no admin pages, no buttons she cannot use', async (t) => {
  const { server, a, b } = await setup(t);
  const login = await post(server, '/ui/login', '', { username: 'alice', password: 'alice-password' });
  const cookie = cookieOf(login);
  const page = await get(server, '/ui/clusters', cookie);
  t.match(page.text, /alpha/);
  t.notMatch(page.text, /beta/);
  t.notMatch(page.text, /href="\/ui\/bundles"|href="\/ui\/audit"/, 'no admin navigation');
  t.notMatch(page.text, /All clusters by state over time/, 'no fleet-wide counts for a user');
  t.equal((await get(server, `/ui/clusters/${b.clusterId}`, cookie)).status, 404, 'another cluster is not found');
  t.equal((await get(server, `/ui/clusters/${a.clusterId}`, cookie)).status, 200);
  for (const p of ['/ui/bundles', '/ui/gitrepos', '/ui/audit']) t.equal((await get(server, p, cookie)).status, 403, p);
  const tokens = await get(server, '/ui/tokens', cookie);
  t.notMatch(tokens.text, /Create join token/);
  t.match(tokens.text, /Create API token/);
  const csrf = csrfIn(tokens.text);
  const refused = await post(server, '/ui/tokens/join', cookie, { csrf, ttlSeconds: '86400', uses: '1' });
  t.equal(refused.status, 403, 'a join token needs admin, form or not');
  const joins = await api(server, 'GET', '/v1/tokens', { bearer: server.adminToken });
  t.equal((joins.json as unknown[]).length, 2, 'nothing created');
  // Her kubeconfig carries a fresh token of hers that the API accepts.
  const kc = await post(server, `/ui/clusters/${a.clusterId}/kubeconfig`, cookie, { csrf });
  t.equal(kc.status, 200);
  t.match(String(kc.headers['content-disposition']), /attachment/);
  const token = (JSON.parse(kc.text) as { users: { user: { token: string } }[] }).users[0]?.user.token ?? '';
  t.equal(((await api(server, 'GET', '/v1/whoami', { bearer: token })).json as { user: string }).user, 'alice');
  t.equal((await post(server, `/ui/clusters/${b.clusterId}/kubeconfig`, cookie, { csrf })).status, 404, 'not for a cluster she cannot see');
});

t.test('dashboard: a forged POST (no CSRF token, another session\'s, or another origin) changes nothing', async (t) => {
  const { server } = await setup(t);
  const cookie = await loginToken(server, server.adminToken);
  const before = ((await api(server, 'GET', '/v1/tokens', { bearer: server.adminToken })).json as unknown[]).length;
  const aliceCsrf = csrfIn((await get(server, '/ui/tokens', cookieOf(await post(server, '/ui/login', '', { username: 'alice', password: 'alice-password' })))).text);
  const ownCsrf = csrfIn((await get(server, '/ui/tokens', cookie)).text);
  t.equal((await post(server, '/ui/tokens/join', cookie, { ttlSeconds: '86400', uses: '1' })).status, 403, 'no token');
  t.equal((await post(server, '/ui/tokens/join', cookie, { csrf: aliceCsrf, ttlSeconds: '86400', uses: '1' })).status, 403, 'another session\'s token');
  t.equal((await post(server, '/ui/tokens/join', cookie, { csrf: ownCsrf, ttlSeconds: '86400', uses: '1' }, 'https://evil.example')).status, 403, 'another origin');
  t.equal(((await api(server, 'GET', '/v1/tokens', { bearer: server.adminToken })).json as unknown[]).length, before);
  const ok = await post(server, '/ui/tokens/join', cookie, { csrf: ownCsrf, ttlSeconds: '86400', uses: '3', labels: 'site=berlin' });
  t.equal(ok.status, 201);
  t.match(ok.text, /id="new-secret" readonly value="D10/);
  t.equal(((await api(server, 'GET', '/v1/tokens', { bearer: server.adminToken })).json as unknown[]).length, before + 1);
  const bad = await post(server, '/ui/tokens/join', cookie, { csrf: ownCsrf, ttlSeconds: '86400', uses: '1', labels: 'Bad Key=x' });
  t.equal(bad.status, 400);
  t.match(bad.text, /Join token not created/);
});

t.test('dashboard: logout revokes the login token; UI actions are audited under the user', async (t) => {
  const { server } = await setup(t);
  const cookie = cookieOf(await post(server, '/ui/login', '', { username: 'alice', password: 'alice-password' }));
  const tokens = await get(server, '/ui/tokens', cookie);
  const created = await post(server, '/ui/tokens/api', cookie, { csrf: csrfIn(tokens.text), description: 'ci', ttlSeconds: '86400' });
  t.equal(created.status, 201);
  const id = /New API token (t-[a-z2-7]+)/.exec(created.text)?.[1] ?? '';
  t.ok(id);
  const revoked = await post(server, `/ui/tokens/api/${id}/revoke`, cookie, { csrf: csrfIn(tokens.text) });
  t.equal(revoked.status, 303);
  const list = (await api(server, 'GET', '/v1/users/alice/tokens', { bearer: server.adminToken })).json as { id: string; state: string; description: string }[];
  t.equal(list.find((x) => x.id === id)?.state, 'revoked');
  t.equal((await post(server, '/ui/logout', cookie, { csrf: csrfIn(tokens.text) })).status, 303);
  t.equal((await get(server, '/ui/clusters', cookie)).status, 303, 'the old cookie no longer works');
  const after = (await api(server, 'GET', '/v1/users/alice/tokens', { bearer: server.adminToken })).json as { description: string; state: string }[];
  t.ok(after.filter((x) => x.description === 'dashboard login').every((x) => x.state === 'revoked'));
  await server.ctx.audit.flush();
  const rows = (await api(server, 'GET', '/v1/audit', { bearer: server.adminToken })).json as { user: string; verb: string; path: string; status: number }[];
  t.ok(rows.some((r) => r.user === 'alice' && r.verb === 'post' && r.path === '/ui/tokens/api' && r.status === 201), 'token creation audited');
  t.ok(rows.some((r) => r.user === 'alice' && r.path === '/ui/login'), 'login audited under the name tried');
});
