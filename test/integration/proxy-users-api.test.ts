// Users, API tokens, login, role bindings and the audit API against a real in-process server
// (HTTPS on 127.0.0.1:0, SQLite in a temp dir); the proxy's refusals that need no cluster agent.
import t from 'tap';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { api, removeDir, startTestServer, TestClock } from './server-harness.ts';

t.test('users: login, tokens with expiry and revocation, roles, proxy refusals, audit chain', async (t) => {
  const server = await startTestServer();
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
  });
  const admin = server.adminToken;

  t.equal((await api(server, 'POST', '/v1/users', { bearer: admin, body: { name: 'alice', password: 'alice-password' } })).status, 201);
  t.equal((await api(server, 'POST', '/v1/users', { bearer: admin, body: { name: 'alice' } })).status, 409, 'USER_EXISTS');
  t.equal((await api(server, 'POST', '/v1/users', { bearer: admin, body: { name: 'admin' } })).status, 409, 'admin is reserved');

  const bad = await api(server, 'POST', '/v1/login', { body: { username: 'alice', password: 'wrong-password' } });
  t.equal(bad.status, 401);
  t.match(bad.json, { error: { code: 'LOGIN_FAILED' } });
  t.match((await api(server, 'POST', '/v1/login', { body: { username: 'nobody', password: 'x' } })).json, { error: { code: 'LOGIN_FAILED' } });
  const login = await api(server, 'POST', '/v1/login', { body: { username: 'alice', password: 'alice-password', ttlSeconds: 3600 } });
  t.equal(login.status, 201);
  const token = (login.json as { token: string; id: string }).token;
  t.match(token, /^t-[a-z2-7]{10}\.[a-z2-7]{40}$/);

  t.match((await api(server, 'GET', '/v1/whoami', { bearer: token })).json, { user: 'alice', idp: 'local', globalRole: 'user' });
  const forbidden = await api(server, 'GET', '/v1/clusters', { bearer: token });
  t.equal(forbidden.status, 403, 'a user may not call admin endpoints');
  t.match(forbidden.json, { error: { code: 'FORBIDDEN' } });
  t.match((await api(server, 'GET', '/v1/clusters', { bearer: 'wrong' })).json, { error: { code: 'ADMIN_TOKEN_INVALID' } });

  const stored = readFileSync(join(server.dataDir, 'server.db'));
  t.notOk(stored.includes(Buffer.from(token.split('.')[1] ?? 'x')), 'the token secret is not stored');
  t.notOk(stored.includes(Buffer.from('alice-password')), 'the password is not stored');

  // Proxy refusals: unknown or invisible clusters are 404 alike; no token is 401.
  t.equal((await api(server, 'GET', '/k8s/clusters/c-nosuchthing/api/v1/pods', { bearer: token })).status, 404);
  t.equal((await api(server, 'GET', '/k8s/clusters/c-nosuchthing/api/v1/pods')).status, 401);
  t.equal((await api(server, 'GET', '/k8s/clusters/c-nosuchthing/api/v1/pods', { bearer: admin })).status, 404);

  const second = await api(server, 'POST', '/v1/users/alice/tokens', { bearer: token, body: { description: 'ci' } });
  t.equal(second.status, 201, 'a user mints their own tokens');
  t.equal((await api(server, 'POST', '/v1/users/bob/tokens', { bearer: token, body: {} })).status, 403, 'but not for others');
  const { id, token: ci } = second.json as { id: string; token: string };
  t.equal((await api(server, 'DELETE', `/v1/users/alice/tokens/${id}`, { bearer: token })).status, 204);
  const revoked = await api(server, 'GET', '/v1/whoami', { bearer: ci });
  t.equal(revoked.status, 401, 'a revoked token is refused at once');
  t.match(revoked.json, { error: { code: 'UNAUTHENTICATED' } });

  t.match((await api(server, 'POST', '/v1/rolebindings', { bearer: admin, body: { user: 'alice', clusterId: 'c-none', role: 'read-only' } })).json, {
    error: { code: 'CLUSTER_NOT_FOUND' },
  });
  t.match((await api(server, 'DELETE', '/v1/rolebindings/alice/c-none/read-only', { bearer: admin })).json, { error: { code: 'BINDING_NOT_FOUND' } });

  await server.ctx.audit.flush();
  const rows = (await api(server, 'GET', '/v1/audit', { bearer: admin })).json as { seq: number; user: string; path: string; status: number; cluster: string | null }[];
  t.ok(rows.some((r) => r.user === 'alice' && r.path === '/v1/clusters' && r.status === 403), 'the refused admin call is audited');
  t.ok(rows.some((r) => r.user === 'alice' && r.cluster === 'c-nosuchthing' && r.status === 404), 'the refused proxy call is audited');
  t.notOk(rows.some((r) => r.path.includes('password')), 'no secrets in paths');
  t.ok(rows.some((r) => r.user === 'alice' && r.path === '/v1/login' && r.status === 401), 'a failed login is audited under the name tried');
  const lines = readFileSync(join(server.dataDir, 'audit.log'), 'utf8').trim().split('\n');
  t.ok(lines.length >= rows.length, 'the same rows as JSON lines');
  t.match((await api(server, 'GET', '/v1/audit/verify', { bearer: admin })).json, { ok: true });

  // Deleting the newest rows leaves a valid chain; the JSON-lines copy still shows them.
  await server.ctx.audit.flush();
  const db = new Database(join(server.dataDir, 'server.db'));
  const last = (db.prepare('SELECT MAX(seq) AS s FROM audit').get() as { s: number }).s;
  db.prepare('DELETE FROM audit WHERE seq >= ?').run(last - 1);
  db.close();
  t.match((await api(server, 'GET', '/v1/audit/verify', { bearer: admin })).json, { ok: false, firstBad: { seq: last - 1, reason: 'missing-after' } });
});

t.test('users: an expired API token is refused with UNAUTHENTICATED', async (t) => {
  const clock = new TestClock();
  const server = await startTestServer({ clock });
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
  });
  await api(server, 'POST', '/v1/users', { bearer: server.adminToken, body: { name: 'carol' } });
  const { token } = (await api(server, 'POST', '/v1/users/carol/tokens', { bearer: server.adminToken, body: { ttlSeconds: 60 } })).json as { token: string };
  t.equal((await api(server, 'GET', '/v1/whoami', { bearer: token })).status, 200);
  clock.advance(61_000);
  const r = await api(server, 'GET', '/v1/whoami', { bearer: token });
  t.equal(r.status, 401);
  t.match(r.json, { error: { code: 'UNAUTHENTICATED', message: /expired/ } });
});
