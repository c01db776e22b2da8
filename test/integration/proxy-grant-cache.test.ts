// Decision 1150: the Kubernetes proxy caches a user's grants per cluster under the store's
// authorisation generation. A grant taken away must be refused on the very next request, whoever
// wrote it: this server's API, another process on the same SQLite file (the CLI with --data-dir,
// an identity provider's login), or another replica on the same PostgreSQL database.
// No cluster agent is needed: a cluster the caller may see answers 503 CLUSTER_UNAVAILABLE (its agent
// is not connected), one they may not see answers 404 CLUSTER_NOT_FOUND, before anything is sent.
import t from 'tap';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { startServer, type RunningServer } from '../../server-lite/server.ts';
import { startPostgres } from '../pg/harness.ts';
import { api, createToken, errorCode, registerAgent, removeDir, startTestServer, tempDir } from './server-harness.ts';

type Server = { url: string; caPem: string; adminToken: string };

async function userToken(s: Server, name: string): Promise<string> {
  const made = await api(s, 'POST', '/v1/users', { bearer: s.adminToken, body: { name, password: `${name}-password-123` } });
  if (made.status !== 201) throw new Error(`user create: ${made.status} ${made.text}`);
  const login = await api(s, 'POST', '/v1/login', { body: { username: name, password: `${name}-password-123` } });
  return (login.json as { token: string }).token;
}

/** What the proxy answers `token` for cluster `id`: 'visible' (503, no agent) or 'hidden' (404). */
async function seen(s: Server, token: string, id: string): Promise<string> {
  const r = await api(s, 'GET', `/k8s/clusters/${id}/api/v1/namespaces`, { bearer: token });
  if (r.status === 503 && errorCode(r) === 'CLUSTER_UNAVAILABLE') return 'visible';
  if (r.status === 404 && errorCode(r) === 'CLUSTER_NOT_FOUND') return 'hidden';
  return `${r.status} ${r.text}`;
}

t.test('a revoked grant is refused on the next request (SQLite; API and another process)', async (t) => {
  const server = await startTestServer();
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
  });
  const admin = server.adminToken;
  const { clusterId } = await registerAgent(server, (await createToken(server)).secret);
  const alice = await userToken(server, 'alice');

  t.equal(await seen(server, alice, clusterId), 'hidden', 'no role: hidden');
  t.equal((await api(server, 'POST', '/v1/rolebindings', { bearer: admin, body: { user: 'alice', clusterId, role: 'read-only' } })).status, 201);
  t.equal(await seen(server, alice, clusterId), 'visible', 'bound: visible on the next request');
  t.equal(await seen(server, alice, clusterId), 'visible', 'and on the one after (cached)');
  t.equal((await api(server, 'DELETE', `/v1/rolebindings/alice/${clusterId}/read-only`, { bearer: admin })).status, 204);
  t.equal(await seen(server, alice, clusterId), 'hidden', 'unbound through the API: refused on the very next request');

  // Project role: visible through the project; deleting the project hides the cluster again.
  t.equal((await api(server, 'POST', '/v1/projects', { bearer: admin, body: { name: 'shop', clusterId, namespaces: ['shop'] } })).status, 201);
  t.equal((await api(server, 'POST', '/v1/projects/shop/bindings', { bearer: admin, body: { user: 'alice', role: 'project-member' } })).status, 201);
  t.equal(await seen(server, alice, clusterId), 'visible', 'a project role makes the cluster visible');
  t.equal((await api(server, 'DELETE', '/v1/projects/shop', { bearer: admin })).status, 204);
  t.equal(await seen(server, alice, clusterId), 'hidden', 'project deleted: refused on the very next request');

  // Group binding: the group's role holds while alice is a member.
  const gb = await api(server, 'POST', '/v1/groupbindings', { bearer: admin, body: { group: 'corp:ops', clusterId, role: 'cluster-member' } });
  t.equal(gb.status, 201, gb.text);
  t.equal(await seen(server, alice, clusterId), 'hidden', 'not a member yet');

  const file = join(server.dataDir, 'server.db');
  if (!existsSync(file)) {
    t.comment('the test datastore is not SQLite: the other-process part is covered by the PostgreSQL test below');
    return;
  }
  // Another process on the same file (what `drover user … --data-dir` and an identity provider's
  // login do): nothing in this server's memory hears of it, only the generation row changes.
  const other = new Database(file);
  t.teardown(() => other.close());
  other.pragma('busy_timeout = 5000');
  other.prepare('INSERT INTO group_members (user_name, group_name) VALUES (?, ?)').run('alice', 'corp:ops');
  t.equal(await seen(server, alice, clusterId), 'visible', 'membership written by another process: visible');
  other.prepare('DELETE FROM group_members WHERE user_name = ?').run('alice');
  t.equal(await seen(server, alice, clusterId), 'hidden', 'membership removed by another process: refused on the very next request');

  other.prepare('INSERT INTO role_bindings (user_name, cluster_id, role, created_at) VALUES (?, ?, ?, ?)').run('alice', clusterId, 'cluster-owner', Date.now());
  t.equal(await seen(server, alice, clusterId), 'visible');
  other.prepare('UPDATE role_bindings SET cluster_id = ? WHERE user_name = ?').run(clusterId, 'alice');
  other.prepare('DELETE FROM role_bindings WHERE user_name = ?').run('alice');
  t.equal(await seen(server, alice, clusterId), 'hidden', 'a binding deleted by another process: refused on the very next request');
});

t.test('a grant revoked through one replica is refused by the other on its next request (PostgreSQL)', async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const url = await pg.createDatabase('grants');
  const start = async (dataDir: string): Promise<RunningServer> => {
    const s = await startServer({ dataDir, host: '127.0.0.1', port: 0, tlsSans: [], datastore: url }, { log: pino({ level: 'silent' }), defaultMetrics: false });
    t.teardown(async () => {
      await s.close();
      removeDir(dataDir);
    });
    return s;
  };
  const dirA = tempDir();
  const a = await start(dirA);
  const dirB = tempDir();
  // A second replica's bootstrap files come from the first (decision 1023).
  for (const f of ['tls', 'admin-token', 'secrets.key']) cpSync(join(dirA, f), join(dirB, f), { recursive: true, preserveTimestamps: true });
  const b = await start(dirB);
  const { clusterId } = await registerAgent(a, (await createToken(a)).secret);
  const bob = await userToken(a, 'bob');

  t.equal(await seen(b, bob, clusterId), 'hidden', 'B: no role');
  t.equal((await api(a, 'POST', '/v1/rolebindings', { bearer: a.adminToken, body: { user: 'bob', clusterId, role: 'read-only' } })).status, 201);
  t.equal(await seen(b, bob, clusterId), 'visible', 'B sees the binding made through A');
  t.equal(await seen(b, bob, clusterId), 'visible', 'B again (cached)');
  t.equal(await seen(a, bob, clusterId), 'visible', 'A too');
  t.equal((await api(a, 'DELETE', `/v1/rolebindings/bob/${clusterId}/read-only`, { bearer: a.adminToken })).status, 204);
  t.equal(await seen(b, bob, clusterId), 'hidden', 'B refuses on its very next request after A unbound');
  t.equal(await seen(a, bob, clusterId), 'hidden', 'A too');

  t.equal((await api(b, 'POST', '/v1/projects', { bearer: b.adminToken, body: { name: 'shop', clusterId, namespaces: ['shop'] } })).status, 201);
  t.equal((await api(b, 'POST', '/v1/projects/shop/bindings', { bearer: b.adminToken, body: { user: 'bob', role: 'read-only' } })).status, 201);
  t.equal(await seen(a, bob, clusterId), 'visible', 'A sees the project role bound through B');
  t.equal((await api(b, 'DELETE', '/v1/projects/shop', { bearer: b.adminToken })).status, 204);
  t.equal(await seen(a, bob, clusterId), 'hidden', 'A refuses on its very next request after B deleted the project');
});
