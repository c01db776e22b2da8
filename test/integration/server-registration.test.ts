// Join tokens and registration against a real in-process server over HTTPS (issue 4).
import t from 'tap';
import { createHash, X509Certificate } from 'node:crypto';
import { api, createToken, errorCode, registerAgent, removeDir, startTestServer, TestClock } from './server-harness.ts';

const clock = new TestClock();
const server = await startTestServer({ clock });
t.teardown(async () => {
  await server.close();
  removeDir(server.dataDir);
});

const register = (token: string, extra: Record<string, unknown> = {}) =>
  api(server, 'POST', '/v1/register', { body: { token, roles: ['cluster'], hostname: 'dev', ...extra } });

t.test('GET /v1/ca serves the CA whose DER sha256 is the hash inside join tokens', async (t) => {
  const r = await api(server, 'GET', '/v1/ca');
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /application\/x-pem-file/);
  const der = new X509Certificate(r.text).raw;
  const hash = createHash('sha256').update(der).digest('hex');
  const token = await createToken(server);
  t.match(token.full, new RegExp(`^D10${hash}::[a-z0-9]{10}\\.[A-Za-z0-9_-]{32,}$`));
});

t.test('token lifecycle: create, list (no secrets), revoke', async (t) => {
  const token = await createToken(server, { uses: 2, labels: { site: 'a' } });
  const list = await api(server, 'GET', '/v1/tokens', { bearer: server.adminToken });
  t.equal(list.status, 200);
  const row = (list.json as Array<Record<string, unknown>>).find((x) => x.id === token.id);
  t.match(row, { id: token.id, state: 'active', uses: 0, usesMax: 2, labels: { site: 'a' } });
  t.notOk(list.text.includes(token.secret.split('.')[1] ?? 'x'), 'the secret never appears in a listing');
  t.equal((await api(server, 'DELETE', `/v1/tokens/${token.id}`, { bearer: server.adminToken })).status, 204);
  const after = await api(server, 'GET', '/v1/tokens', { bearer: server.adminToken });
  t.equal((after.json as Array<Record<string, unknown>>).find((x) => x.id === token.id)?.state, 'revoked');
  t.equal(errorCode(await api(server, 'DELETE', '/v1/tokens/nosuchtok0', { bearer: server.adminToken })), 'TOKEN_NOT_FOUND');
});

t.test('admin endpoints refuse a missing or wrong admin token with ADMIN_TOKEN_INVALID', async (t) => {
  for (const bearer of [undefined, 'wrong-token', `${server.adminToken}x`]) {
    const r = await api(server, 'GET', '/v1/clusters', bearer === undefined ? {} : { bearer });
    t.equal(r.status, 401);
    t.equal(errorCode(r), 'ADMIN_TOKEN_INVALID');
  }
});

t.test('registration: expired token is refused with TOKEN_EXPIRED', async (t) => {
  const token = await createToken(server, { ttlSeconds: 60 });
  clock.advance(61_000);
  const r = await register(token.secret);
  t.equal(r.status, 401);
  t.equal(errorCode(r), 'TOKEN_EXPIRED');
});

t.test('registration: used-up token is refused with TOKEN_USED_UP', async (t) => {
  const token = await createToken(server, { uses: 1 });
  t.equal((await register(token.secret)).status, 201);
  const r = await register(token.secret);
  t.equal(r.status, 401);
  t.equal(errorCode(r), 'TOKEN_USED_UP');
});

t.test('registration: revoked token is refused with TOKEN_REVOKED', async (t) => {
  const token = await createToken(server, { uses: 0 });
  await api(server, 'DELETE', `/v1/tokens/${token.id}`, { bearer: server.adminToken });
  const r = await register(token.secret);
  t.equal(r.status, 401);
  t.equal(errorCode(r), 'TOKEN_REVOKED');
});

t.test('registration: unknown id and wrong secret both answer TOKEN_UNKNOWN', async (t) => {
  const token = await createToken(server);
  const wrongSecret = `${token.id}.${'x'.repeat(40)}`;
  for (const value of ['abcdefghij.' + 'y'.repeat(40), wrongSecret]) {
    const r = await register(value);
    t.equal(r.status, 401);
    t.equal(errorCode(r), 'TOKEN_UNKNOWN');
  }
  t.equal((await register(token.secret)).status, 201, 'the failed attempts did not spend the token');
});

t.test('registration: garbage token is refused with TOKEN_MALFORMED', async (t) => {
  for (const value of ['', 'garbage', 'D10abc::short.x', 'UPPERCASE1.' + 'z'.repeat(40)]) {
    const r = await register(value);
    t.equal(r.status, 400, value);
    t.equal(errorCode(r), 'TOKEN_MALFORMED', value);
  }
});

t.test('registration: a label-scoped token creates a new cluster per device with its labels', async (t) => {
  const token = await createToken(server, { uses: 2, labels: { site: 'store-7', region: 'eu' } });
  const a = await registerAgent(server, token.secret, { hostname: 'dev-a', labels: { rack: '1', site: 'ignored' } });
  const b = await registerAgent(server, token.secret, { hostname: 'dev-b', name: 'till-b' });
  t.not(a.clusterId, b.clusterId);
  const ca = (await api(server, 'GET', `/v1/clusters/${a.clusterId}`, { bearer: server.adminToken })).json as Record<string, unknown>;
  t.match(ca, { name: 'dev-a', labels: { site: 'store-7', region: 'eu', rack: '1' } }, "the token's labels win over the device's");
  const cb = (await api(server, 'GET', `/v1/clusters/${b.clusterId}`, { bearer: server.adminToken })).json as Record<string, unknown>;
  t.equal(cb.name, 'till-b');
  t.match(a.credential, new RegExp(`^${a.agentId}\\.`));
  t.ok(Date.parse(a.credentialExpiresAt) > clock.now());
});

t.test('registration: a cluster-scoped token adds a node to that cluster', async (t) => {
  const first = await registerAgent(server, (await createToken(server)).secret, { hostname: 'cp-1' });
  const token = await createToken(server, { clusterId: first.clusterId, uses: 0 });
  const second = await registerAgent(server, token.secret, { hostname: 'worker-1', roles: ['node'] });
  t.equal(second.clusterId, first.clusterId);
  t.not(second.nodeId, first.nodeId);
  const nodes = (await api(server, 'GET', '/v1/nodes', { bearer: server.adminToken })).json as Array<Record<string, unknown>>;
  t.same(
    nodes.filter((n) => n.clusterId === first.clusterId).map((n) => n.name).sort(),
    ['cp-1', 'worker-1'],
  );
  const bad = await api(server, 'POST', '/v1/tokens', { body: { clusterId: 'c-doesnotexist' }, bearer: server.adminToken });
  t.equal(errorCode(bad), 'CLUSTER_NOT_FOUND');
});

t.test('registration: concurrent registrations never overspend a token', async (t) => {
  const token = await createToken(server, { uses: 3 });
  const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => register(token.secret, { hostname: `race-${i}` })));
  t.equal(replies.filter((r) => r.status === 201).length, 3);
  t.ok(replies.filter((r) => r.status !== 201).every((r) => errorCode(r) === 'TOKEN_USED_UP'));
});
