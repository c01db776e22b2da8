// The SQLite store against a real database file: migrations are idempotent, enrol is atomic and
// refuses with the right reason, lastSeen never goes backwards.
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, SqliteStore } from './sqlite-store.ts';
import { MIGRATIONS } from './migrations.ts';
import type { Enrolment, TokenRecord } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'drover-store-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const token = (over: Partial<TokenRecord> = {}): TokenRecord => ({
  id: 'tok0000001', secretHash: 'ab', createdAt: 0, expiresAt: 1000, usesMax: 1, uses: 0, clusterId: null, labels: {}, revokedAt: null, ...over,
});
const enrolment = (tokenId: string, n: number, now = 10): Enrolment => ({
  tokenId,
  now,
  newCluster: { id: `c-${n}`, name: `dev${n}`, labels: {}, createdAt: now, kubernetesVersion: null },
  node: { id: `n-${n}`, clusterId: `c-${n}`, name: `dev${n}`, createdAt: now, facts: {}, removedAt: null },
  agent: {
    id: `a-${n}`, clusterId: `c-${n}`, nodeId: `n-${n}`, hostname: `dev${n}`, roles: ['cluster'], credentialHash: 'cd', prevCredentialHash: null,
    credentialIssuedAt: now, credentialExpiresAt: now + 1, createdAt: now, revokedAt: null, removedAt: null, lastSeen: null, facts: {},
  },
});

t.test('store: migrations run once and are recorded', async (t) => {
  const path = join(dir, 'm.db');
  const db = new Database(path);
  t.equal(migrate(db), MIGRATIONS.at(-1)?.version);
  t.equal(migrate(db), MIGRATIONS.at(-1)?.version, 'second run is a no-op');
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n, MIGRATIONS.length);
  t.equal(db.pragma('journal_mode', { simple: true }), 'delete', 'plain handle; the store sets WAL itself');
  db.close();
  const store = new SqliteStore(path);
  await store.ping();
  await store.close();
});

t.test('store: enrol spends a use atomically and refuses with the reason', async (t) => {
  const store = new SqliteStore(join(dir, 'e.db'));
  t.teardown(() => store.close());
  await store.createToken(token());
  t.same(await store.enrol(enrolment('tok0000001', 1)), { ok: true });
  t.same(await store.enrol(enrolment('tok0000001', 2)), { ok: false, reason: 'TOKEN_USED_UP' });
  t.equal(await store.getCluster('c-2'), undefined, 'a refused enrolment writes nothing');
  await store.createToken(token({ id: 'tok0000002', usesMax: 0 }));
  t.same(await store.enrol(enrolment('tok0000002', 3, 1000)), { ok: false, reason: 'TOKEN_EXPIRED' });
  await store.revokeToken('tok0000002', 5);
  t.same(await store.enrol(enrolment('tok0000002', 4)), { ok: false, reason: 'TOKEN_REVOKED' });
  t.same(await store.enrol(enrolment('nosuchtokn', 5)), { ok: false, reason: 'TOKEN_UNKNOWN' });
  await store.createToken(token({ id: 'tok0000003', usesMax: 0, clusterId: 'c-gone' }));
  const scoped = { ...enrolment('tok0000003', 6), newCluster: null };
  scoped.agent.clusterId = 'c-gone';
  scoped.node.clusterId = 'c-gone';
  t.same(await store.enrol(scoped), { ok: false, reason: 'CLUSTER_NOT_FOUND' });
  t.equal((await store.getToken('tok0000003'))?.uses, 0, 'the use was rolled back');
});

t.test('store: lastSeen only moves forward; facts update node and cluster', async (t) => {
  const store = new SqliteStore(join(dir, 'l.db'));
  t.teardown(() => store.close());
  await store.createToken(token({ usesMax: 0, expiresAt: null }));
  await store.enrol(enrolment('tok0000001', 1));
  await store.touch([{ agentId: 'a-1', at: 500 }]);
  await store.touch([{ agentId: 'a-1', at: 400 }]);
  t.equal((await store.getAgent('a-1'))?.lastSeen, 500);
  await store.recordFacts('a-1', { kubernetesVersion: 'v1.31.0', os: 'linux' }, 600);
  t.equal((await store.getCluster('c-1'))?.kubernetesVersion, 'v1.31.0');
  t.same((await store.listNodes({ clusterId: 'c-1' }))[0]?.facts, { kubernetesVersion: 'v1.31.0', os: 'linux' });
  t.equal((await store.getAgent('a-1'))?.lastSeen, 600);
  // The node role reports device extras on its own tunnel: merged with the cluster role's facts.
  await store.recordFacts('a-1', { os: 'linux', extras: { kernel: '6.1', 'node.cpus': '4' } }, 610);
  await store.recordFacts('a-1', { os: 'linux', extras: { kernel: '6.1' } }, 620);
  t.same((await store.listNodes({ clusterId: 'c-1' }))[0]?.facts, { kubernetesVersion: 'v1.31.0', os: 'linux', extras: { kernel: '6.1', 'node.cpus': '4' } }, 'one role does not wipe another role\'s facts');
  const patched = await store.patchClusterLabels('c-1', { a: '1', b: '2' });
  t.same(patched?.labels, { a: '1', b: '2' });
  t.same((await store.patchClusterLabels('c-1', { a: null }))?.labels, { b: '2' });
  t.equal(await store.patchClusterLabels('c-none', { a: '1' }), undefined);
  t.ok(await store.removeAgent('a-1', 700));
  t.equal((await store.listNodes())[0]?.removedAt, 700);
});

t.test('store: deleteCluster removes every row of the cluster in one go and keeps tombstones until each role cleaned up', async (t) => {
  const store = new SqliteStore(join(dir, 'd.db'));
  t.teardown(() => store.close());
  await store.createToken(token({ usesMax: 0, expiresAt: null }));
  const e = enrolment('tok0000001', 1);
  e.agent.roles = ['cluster', 'fleet'];
  await store.enrol(e);
  await store.enrol(enrolment('tok0000001', 2));
  await store.createToken(token({ id: 'tok0000009', clusterId: 'c-1', expiresAt: null }));
  await store.createUser({ name: 'bob', globalRole: 'user', passwordHash: null, createdAt: 0 });
  await store.bindRole({ userName: 'bob', clusterId: 'c-1', role: 'read-only', createdAt: 0 });
  await store.bindRole({ userName: 'bob', clusterId: 'c-2', role: 'read-only', createdAt: 0 });
  const v0 = store.clustersVersion();
  const out = await store.deleteCluster('c-1', { keepWorkloads: true, uninstallAgents: false, at: 50, by: 'admin' });
  t.match(out?.agents, [{ agentId: 'a-1', clusterId: 'c-1', clusterName: 'dev1', roles: ['cluster', 'fleet'], credentialHash: 'cd', keepWorkloads: true, uninstallAgents: false, at: 50, by: 'admin', cleanedRoles: [] }]);
  t.equal(await store.getCluster('c-1'), undefined);
  t.equal(await store.getAgent('a-1'), undefined);
  t.same(await store.listNodes({ clusterId: 'c-1' }), []);
  t.same((await store.listBindings()).map((b) => b.clusterId), ['c-2'], "only the other cluster's binding is left");
  t.equal(await store.getToken('tok0000009'), undefined, 'a join token scoped to the cluster goes');
  t.ok(await store.getCluster('c-2'), 'the other cluster is untouched');
  t.not(store.clustersVersion(), v0, 'targeting sees the change');
  t.equal(await store.deleteCluster('c-1', { keepWorkloads: false, uninstallAgents: false, at: 60, by: 'admin' }), undefined, 'gone: undefined');
  t.same(await store.markCleaned('a-1', ['fleet']), ['cluster']);
  t.same((await store.getDeletedAgent('a-1'))?.cleanedRoles, ['fleet']);
  t.same(await store.markCleaned('a-1', ['cluster', 'node']), [], 'a role the agent never had is ignored');
  t.equal(await store.getDeletedAgent('a-1'), undefined, 'all roles cleaned: the tombstone goes');
  t.equal(await store.markCleaned('a-1', ['cluster']), undefined);
});
