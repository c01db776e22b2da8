// The store's contract, against SQLite (a real database file) and PostgreSQL (Debian's, issue 17):
// migrations are idempotent, enrol is atomic and refuses with the right reason, lastSeen never goes
// backwards, deleting a cluster removes its rows and keeps tombstones.
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import pino from 'pino';
import { chain, verifyChain } from '../audit/audit-chain.ts';
import { AuditWriter } from '../audit/audit-writer.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, SqliteStore } from './sqlite-store.ts';
import { MIGRATIONS } from './migrations.ts';
import type { Enrolment, TokenRecord } from './store.ts';
import { storeBackends } from '../../test/pg/store-backends.ts';
import { PgDb } from './pg-db.ts';
import { PgStore } from './pg-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'drover-store-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const backends = storeBackends(t);

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

t.test('sqlite: migrations run once and are recorded', async (t) => {
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

for (const backend of backends) {
  t.test(`${backend.name}: enrol spends a use atomically and refuses with the reason`, async (t) => {
    const store = await backend.open();
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

  t.test(`${backend.name}: lastSeen only moves forward; facts update node and cluster`, async (t) => {
    const store = await backend.open();
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

  t.test(`${backend.name}: deleteCluster removes every row of the cluster in one go and keeps tombstones until each role cleaned up`, async (t) => {
    const store = await backend.open();
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
    const v0 = store.clustersVersion?.();
    const out = await store.deleteCluster('c-1', { keepWorkloads: true, uninstallAgents: false, at: 50, by: 'admin' });
    t.match(out?.agents, [{ agentId: 'a-1', clusterId: 'c-1', clusterName: 'dev1', roles: ['cluster', 'fleet'], credentialHash: 'cd', keepWorkloads: true, uninstallAgents: false, at: 50, by: 'admin', cleanedRoles: [] }]);
    t.equal(await store.getCluster('c-1'), undefined);
    t.equal(await store.getAgent('a-1'), undefined);
    t.same(await store.listNodes({ clusterId: 'c-1' }), []);
    t.same((await store.listBindings()).map((b) => b.clusterId), ['c-2'], "only the other cluster's binding is left");
    t.equal(await store.getToken('tok0000009'), undefined, 'a join token scoped to the cluster goes');
    t.ok(await store.getCluster('c-2'), 'the other cluster is untouched');
    if (backend.name === 'sqlite') t.not(store.clustersVersion?.(), v0, 'targeting sees the change');
    else t.equal(store.clustersVersion, undefined, 'PostgreSQL: other replicas write clusters too, so no in-process version');
    t.equal(await store.deleteCluster('c-1', { keepWorkloads: false, uninstallAgents: false, at: 60, by: 'admin' }), undefined, 'gone: undefined');
    t.same(await store.markCleaned('a-1', ['fleet']), ['cluster']);
    t.same((await store.getDeletedAgent('a-1'))?.cleanedRoles, ['fleet']);
    t.same(await store.markCleaned('a-1', ['cluster', 'node']), [], 'a role the agent never had is ignored');
    t.equal(await store.getDeletedAgent('a-1'), undefined, 'all roles cleaned: the tombstone goes');
    t.equal(await store.markCleaned('a-1', ['cluster']), undefined);
  });
}

for (const backend of backends) {
  t.test(`${backend.name}: users, API tokens, projects, bindings and the audit chain round-trip`, async (t) => {
    const store = await backend.open();
    t.teardown(() => store.close());
    await store.createToken(token({ usesMax: 0, expiresAt: null }));
    await store.enrol(enrolment('tok0000001', 1));
    t.ok(await store.createUser({ name: 'ann', globalRole: 'admin', passwordHash: 'scrypt$x', createdAt: 3 }));
    t.notOk(await store.createUser({ name: 'ann', globalRole: 'user', passwordHash: null, createdAt: 4 }), 'exists: false');
    t.ok(await store.setPassword('ann', 'scrypt$y'));
    t.same(await store.getUser('ann'), { name: 'ann', globalRole: 'admin', passwordHash: 'scrypt$y', createdAt: 3 });
    await store.createUserToken({ id: 'ut-1', userName: 'ann', secretHash: 'h', description: 'ci', createdAt: 5, expiresAt: 2 ** 41, revokedAt: null });
    t.equal((await store.getUserToken('ut-1'))?.expiresAt, 2 ** 41, 'epoch milliseconds beyond 32 bits survive');
    t.ok(await store.revokeUserToken('ut-1', 6));
    t.equal((await store.listUserTokens('ann'))[0]?.revokedAt, 6);
    t.ok(await store.createProject({ name: 'web', clusterId: 'c-1', namespaces: ['a', 'b'], createdAt: 7 }));
    t.notOk(await store.createProject({ name: 'web', clusterId: 'c-1', namespaces: [], createdAt: 8 }));
    t.same((await store.setProjectNamespaces('web', ['c', 'a', 'c']))?.namespaces, ['a', 'c']);
    t.ok(await store.bindProjectRole({ userName: 'ann', project: 'web', role: 'project-member', createdAt: 9 }));
    t.notOk(await store.bindProjectRole({ userName: 'ann', project: 'web', role: 'project-member', createdAt: 9 }));
    t.same(await store.listProjectBindings({ clusterId: 'c-1' }), [{ userName: 'ann', project: 'web', role: 'project-member', createdAt: 9 }]);
    t.same(await store.listProjectBindings({ userName: 'nobody' }), []);
    t.ok(await store.bindRole({ userName: 'ann', clusterId: 'c-1', role: 'cluster-owner', createdAt: 10 }));
    t.same(await store.listBindings({ userName: 'ann' }), [{ userName: 'ann', clusterId: 'c-1', role: 'cluster-owner', createdAt: 10 }]);
    await store.setKubeFacts('c-1', { nodes: 3 });
    t.same(await store.getKubeFacts('c-1'), { nodes: 3 });
    const rows = chain(undefined, [1, 2, 3].map((i) => ({ at: i, user: 'ann', idp: 'local', clusterId: null, verb: 'get', path: `/p/${i}`, status: 200, latencyMs: 1.5, ...(i === 2 ? { impersonated: 'bob', provider: 'corp' } : {}) })));
    t.same(await store.appendAudit(rows), rows, 'in order: stored as given');
    t.same(await store.listAudit({ afterSeq: 1, limit: 1 }), [rows[1]]);
    t.same(await store.listAudit(), rows);
    t.same(await store.lastAudit(), rows[2]);
    t.ok(await store.deleteProject('web'));
    t.ok(await store.deleteUser('ann'));
    t.same(await store.listUserTokens(), []);
    t.same(await store.listBindings(), []);
  });
}

for (const backend of backends) {
  t.test(`${backend.name}: connection history is stored newest first and pruned by age and per cluster`, async (t) => {
    const store = await backend.open();
    t.teardown(() => store.close());
    if (!store.recordConnectionEvents || !store.connectionEvents || !store.pruneConnectionEvents) throw new Error(`${backend.name} keeps no connection history`);
    const ev = (clusterId: string, at: number, kind: 'connect' | 'disconnect' = 'connect') =>
      ({ clusterId, agentId: `a-${clusterId}`, role: 'cluster' as const, sessionId: `s${at}`, kind, at, reason: kind === 'connect' ? 'connected' : 'ping timeout', remote: at % 2 ? null : '127.0.0.1' });
    await store.recordConnectionEvents([ev('c1', 10), ev('c1', 20, 'disconnect'), ev('c2', 15), ...[30, 31, 32, 33].map((at) => ev('c1', at))]);
    await store.recordConnectionEvents([]);
    const c1 = await store.connectionEvents('c1', 10);
    t.same(c1.map((e) => e.at), [33, 32, 31, 30, 20, 10], 'newest first');
    t.same(c1[4], ev('c1', 20, 'disconnect'), 'every field round-trips, remote included');
    t.same((await store.connectionEvents('c1', 2)).map((e) => e.at), [33, 32], 'limit');
    t.equal(await store.pruneConnectionEvents(12, 3, ['c1']), 3, 'one older than the cut, two past the newest 3 of c1');
    t.same((await store.connectionEvents('c1', 10)).map((e) => e.at), [33, 32, 31]);
    t.same((await store.connectionEvents('c2', 10)).map((e) => e.at), [15], 'c2 was not named: kept');
  });
}

for (const backend of backends) {
  t.test(`${backend.name}: agents' liveness columns match the full records`, async (t) => {
    const store = await backend.open();
    t.teardown(() => store.close());
    if (!store.listAgentLiveness) throw new Error(`${backend.name} has no listAgentLiveness`);
    await store.createToken(token({ usesMax: 0, expiresAt: null }));
    for (const n of [1, 2]) await store.enrol(enrolment('tok0000001', n));
    await store.touch([{ agentId: 'a-2', at: 2 ** 41 }]);
    await store.revokeAgent('a-1', 7);
    const full = await store.listAgents();
    t.same(await store.listAgentLiveness(), full.map((a) => ({ id: a.id, clusterId: a.clusterId, nodeId: a.nodeId, revokedAt: a.revokedAt, removedAt: a.removedAt, lastSeen: a.lastSeen })));
    t.equal((await store.listAgentLiveness())[1]?.lastSeen, 2 ** 41, 'epoch milliseconds beyond 32 bits');
  });
}

const postgres = backends.find((b) => b.name === 'postgres');

t.test('postgres: migrations run once and are recorded; several replicas opening together apply each once', async (t) => {
  if (!postgres) throw new Error('no postgres backend');
  const store = (await postgres.open()) as PgStore;
  const others = await Promise.all([postgres.reopen(store), postgres.reopen(store)]);
  t.teardown(async () => {
    await store.close();
    for (const o of others) await o.close();
  });
  t.equal(await store.db.migrate(), MIGRATIONS.at(-1)?.version, 'second run is a no-op');
  t.equal(Number((await store.db.one('SELECT COUNT(*) AS n FROM schema_migrations'))?.n), MIGRATIONS.length);
  const col = await store.db.one("SELECT data_type FROM information_schema.columns WHERE table_name = 'agents' AND column_name = 'last_seen'");
  t.equal(col?.data_type, 'bigint', 'INTEGER columns hold epoch ms: BIGINT on PostgreSQL');
  t.ok(store.db instanceof PgDb);
});

t.test('postgres: two connections enrolling on one token at once never overspend it', async (t) => {
  if (!postgres) throw new Error('no postgres backend');
  const a = await postgres.open();
  const b = await postgres.reopen(a);
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  await a.createToken(token({ usesMax: 5, expiresAt: null }));
  const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).enrol(enrolment('tok0000001', i + 1))));
  t.equal(outcomes.filter((o) => o.ok).length, 5, 'exactly usesMax enrolments succeed');
  t.equal(outcomes.filter((o) => !o.ok && o.reason === 'TOKEN_USED_UP').length, 7);
  t.equal((await b.getToken('tok0000001'))?.uses, 5);
  t.equal((await a.listClusters()).length, 5, 'refused enrolments left nothing behind');
});

t.test('postgres: two writers (two processes\' pools) appending audit rows at once keep one verifiable chain', async (t) => {
  if (!postgres) throw new Error('no postgres backend');
  const a = await postgres.open();
  const b = await postgres.reopen(a);
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const dir = mkdtempSync(join(tmpdir(), 'drover-audit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = pino({ level: 'silent' });
  const wa = await AuditWriter.open(a, join(dir, 'a.log'), log);
  const wb = await AuditWriter.open(b, join(dir, 'b.log'), log);
  const field = (w: string, i: number) => ({ at: i, user: w, idp: 'local', clusterId: null, verb: 'get', path: `/${w}/${i}`, status: 200, latencyMs: 1 });
  // Both writers start from the same (empty) head and flush interleaved batches concurrently.
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 5; i++) {
      wa.record(field('a', round * 5 + i));
      wb.record(field('b', round * 5 + i));
    }
    await Promise.all([wa.flush(), wb.flush()]);
  }
  const rows = await a.listAudit();
  t.equal(rows.length, 100, 'no row lost, none duplicated');
  t.same(rows.map((r) => r.seq), Array.from({ length: 100 }, (_, i) => i + 1));
  t.equal(verifyChain(rows), undefined, 'the chain verifies');
  t.same(rows.filter((r) => r.user === 'a').map((r) => r.at), Array.from({ length: 50 }, (_, i) => i), "each writer's rows keep their order");
  const lastA = readFileSync(join(dir, 'a.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number; hash: string });
  for (const line of lastA) t.equal(rows[line.seq - 1]?.hash, line.hash, `a.log row ${line.seq} mirrors the store`);
});
