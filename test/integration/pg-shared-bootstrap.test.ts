// Issue 17, decision 1023: two server replicas on one PostgreSQL database, the second started
// with a copy of the first's bootstrap files (tls/, admin-token, secrets.key). They present the
// same CA, accept the same admin token, see each other's writes (users, join tokens, clusters
// registered through the other replica, source secrets) and append to one audit chain that
// verifies on both.
import t from 'tap';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { startServer, type RunningServer } from '../../server-lite/server.ts';
import { startPostgres } from '../pg/harness.ts';
import { api, createToken, registerAgent, removeDir, tempDir } from './server-harness.ts';
import { waitFor } from '../e2e/agent-helpers.ts';

/** What a new replica's data dir needs from an existing one (decision 1023). */
const BOOTSTRAP_FILES = ['tls', 'admin-token', 'secrets.key'] as const;

t.test('two replicas on one database with copied bootstrap files act as one server', async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const url = await pg.createDatabase('replicas');
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
  for (const f of BOOTSTRAP_FILES) cpSync(join(dirA, f), join(dirB, f), { recursive: true, preserveTimestamps: true });
  const b = await start(dirB);

  t.equal(b.caHash, a.caHash, 'one CA');
  t.equal(b.adminToken, a.adminToken, 'one admin token');
  const created = await api(a, 'POST', '/v1/users', { body: { name: 'carol' }, bearer: a.adminToken });
  t.equal(created.status, 201);
  const users = await api(b, 'GET', '/v1/users', { bearer: b.adminToken });
  t.match(users.text, /"carol"/, 'a user created through A is seen through B');

  const token = await createToken(b, { labels: { site: 'x' } });
  const agent = await registerAgent(a, token.secret);
  const cluster = await api(b, 'GET', `/v1/clusters/${agent.clusterId}`, { bearer: b.adminToken });
  t.equal(cluster.status, 200, 'registered through A with a token made on B; B serves the cluster');

  const put = await api(a, 'POST', '/v1/secrets', { body: { name: 'git-cred', type: 'token', data: { token: 'one' } }, bearer: a.adminToken });
  t.equal(put.status, 201);
  const seen = await waitFor('the secret stored through A to reach B', async () => {
    const r = await api(b, 'GET', '/v1/secrets/git-cred', { bearer: b.adminToken });
    return r.status === 200 ? r : undefined;
  });
  t.match(seen.json, { name: 'git-cred', type: 'token', fields: ['token'] }, 'one set of source secrets, opened with the shared secrets.key');

  for (const s of [a, b]) await s.ctx.audit.flush();
  for (const [name, s] of [['A', a], ['B', b]] as const) {
    const v = await api(s, 'GET', '/v1/audit/verify', { bearer: s.adminToken });
    t.match(v.json, { ok: true }, `the one audit chain verifies on ${name}`);
  }
  const rows = await a.ctx.store.listAudit();
  t.ok(rows.some((r) => r.path === '/v1/users' && r.verb === 'post') && rows.some((r) => r.path === '/v1/tokens'), `rows from both replicas: ${JSON.stringify(rows.map((r) => [r.verb, r.path]))}`);
});
