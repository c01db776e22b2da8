import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createFleetStore } from './store.ts';
import { FLEET_MIGRATIONS } from './store-migrations.ts';
import { configMap, desired, memoryDb, namespace } from './test-fixtures.ts';

t.test('store: a desired deployment survives closing and reopening the database', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'fleet-store-')), 'agent.db');
  const db1 = new Database(file);
  db1.pragma('journal_mode = WAL');
  const ack = createFleetStore(db1).acceptDesired(desired('d1', 'r1', [namespace('a'), configMap('c', 'a')], { correctDrift: true, keepResources: false }));
  t.same(ack, { deploymentId: 'd1', revision: 'r1' }, 'acknowledges what it stored');
  db1.close();
  const store = createFleetStore(new Database(file));
  t.same(store.deployment('d1')?.manifests.map((m) => m.metadata.name), ['a', 'c']);
  t.same(store.deployment('d1')?.options, { correctDrift: true, keepResources: false });
  t.same(store.held().map((d) => [d.deploymentId, d.revision]), [['d1', 'r1']], 'the resume point names the stored revision');
});

t.test('store: accepting writes with synchronous=FULL and restores the connection setting after', async (t) => {
  const db = memoryDb();
  db.pragma('synchronous = NORMAL');
  createFleetStore(db).acceptDesired(desired('d1', 'r1', [configMap('c', 'x')]));
  t.equal(db.pragma('synchronous', { simple: true }), 1, 'back to NORMAL');
});

t.test('store: a new revision replaces the old one for the same deployment', async (t) => {
  const store = createFleetStore(memoryDb());
  store.acceptDesired(desired('d1', 'r1', [configMap('a', 'x')]));
  store.acceptDesired(desired('d1', 'r2', [configMap('b', 'x')]));
  t.equal(store.deployments().length, 1);
  t.equal(store.deployment('d1')?.revision, 'r2');
});

t.test('store: invalid manifest sets are refused with a code and the previous revision stays', async (t) => {
  const store = createFleetStore(memoryDb());
  store.acceptDesired(desired('d1', 'r1', [configMap('a', 'x')]));
  t.throws(() => store.acceptDesired(desired('d1', 'r2', [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: '' } }])), { code: 'MANIFEST_INVALID' });
  t.throws(() => store.acceptDesired(desired('d1', 'r2', [configMap('a', 'x'), configMap('a', 'x')])), { code: 'DUPLICATE_OBJECT' });
  t.throws(() => store.acceptDesired({ ...desired('d1', 'r2', []), manifests: 'nope' as never }), { code: 'MANIFEST_INVALID' });
  t.equal(store.deployment('d1')?.revision, 'r1', 'r1 still in force');
});

t.test('store: migrations run once, are recorded in fleet_migrations, and a newer schema is refused', async (t) => {
  const db = memoryDb();
  createFleetStore(db);
  createFleetStore(db);
  t.equal(db.prepare('SELECT COUNT(*) FROM fleet_migrations').pluck().get(), FLEET_MIGRATIONS.length);
  t.equal(db.pragma('user_version', { simple: true }), 0, 'PRAGMA user_version is left to agents/common');
  db.prepare('INSERT INTO fleet_migrations (version, applied_at) VALUES (?, ?)').run(FLEET_MIGRATIONS.length + 1, 'x');
  t.throws(() => createFleetStore(db), { code: 'STORE_SCHEMA_NEWER' });
});

t.test('store: apply errors are recorded per revision', async (t) => {
  const store = createFleetStore(memoryDb());
  t.same(store.applied('d1'), { revision: undefined, appliedAt: undefined, error: undefined, errorRevision: undefined });
  store.recordError('d1', 'r1', 'KIND_UNKNOWN: x');
  t.equal(store.applied('d1').error, 'KIND_UNKNOWN: x');
  t.equal(store.applied('d1').errorRevision, 'r1');
});

t.test('store: a database at fleet schema v1 is upgraded in place, keeping its deployments', async (t) => {
  const db = memoryDb();
  db.exec('CREATE TABLE fleet_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  db.exec(FLEET_MIGRATIONS[0]!);
  db.prepare('INSERT INTO fleet_migrations VALUES (1, ?)').run('x');
  db.prepare("INSERT INTO fleet_deployments VALUES ('d1', 'b', 'r1', '[]', '{}', 'x')").run();
  const store = createFleetStore(db);
  t.equal(store.deployment('d1')?.revision, 'r1');
  t.same(store.latestStatuses(), []);
});

t.test('store: a removed deployment leaves the set in force until forgotten; accepting it again revives it', async (t) => {
  const store = createFleetStore(memoryDb());
  store.acceptDesired(desired('d1', 'r1', [configMap('a', 'x')]));
  t.equal(store.removeDesired('d1'), true);
  t.equal(store.removeDesired('d1'), false, 'removing twice is a no-op');
  t.same(store.deployments(), []);
  t.same(store.removedDeployments().map((d) => d.id), ['d1']);
  t.same(store.held(), [], 'not part of the resume point');
  store.acceptDesired(desired('d1', 'r2', [configMap('a', 'x')]));
  t.same(store.removedDeployments(), []);
  store.removeDesired('d1');
  store.forget('d1');
  t.same(store.removedDeployments(), []);
  t.equal(store.deployment('d1'), undefined);
});

t.test('store: accepting inside a caller transaction works (the caller commit decides durability)', async (t) => {
  const db = memoryDb();
  const store = createFleetStore(db);
  db.transaction(() => store.acceptDesired(desired('d1', 'r1', [configMap('a', 'x')])))();
  t.equal(store.deployment('d1')?.revision, 'r1');
});
