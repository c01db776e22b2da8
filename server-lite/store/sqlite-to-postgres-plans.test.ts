// `server migrate` carries the node plans (plans.db) and the releases (rows and executables) too
// (decisions 1110, 1111): a SQLite data dir with plans, results, a rollout and an imported release
// is copied into Debian's PostgreSQL; counts verified, then read back through the PostgreSQL stores.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startPostgres } from '../../test/pg/harness.ts';
import { SqlitePlanStore } from '../plans/sqlite-plan-store.ts';
import { PgPlanStore } from './pg-plan-store.ts';
import { PgStore } from './pg-store.ts';
import { RELEASE_CHUNK_BYTES } from './pg-upgrades.ts';
import { migrateSqliteToPostgres } from './sqlite-to-postgres.ts';
import { SqliteStore } from './sqlite-store.ts';

t.test('plans.db and the releases move with server migrate', async (t) => {
  const pg = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'drover-migrate-plans-'));
  t.teardown(async () => {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const store = new SqliteStore(join(dir, 'server.db'));
  const bytes = Buffer.alloc(RELEASE_CHUNK_BYTES + 12345, 7);
  mkdirSync(join(dir, 'releases/0.2.0'), { recursive: true });
  writeFileSync(join(dir, 'releases/0.2.0/drover-linux-amd64'), bytes);
  const sha = createHash('sha256').update(bytes).digest('hex');
  await store.upgrades.putRelease({ version: '0.2.0', arch: 'amd64', artifact: 'drover-linux-amd64', sha256: sha, size: bytes.length, sums: 's', signature: 'g', file: 'releases/0.2.0/drover-linux-amd64', importedAt: 1 });
  await store.upgrades.startRollout({ id: 'r1', version: '0.2.0', target: '', maxUnavailable: '1', canary: 0, state: 'Running', message: '', createdAt: 2, updatedAt: 2 },
    [{ rolloutId: 'r1', agentId: 'a1', state: 'Downloading', canary: false, fromVersion: '0.1.0', bytes: 5, total: bytes.length, message: '', since: 3 }]);
  await store.close();
  const plans = new SqlitePlanStore(join(dir, 'plans.db'));
  await plans.putPlan({ name: 'motd', checksum: 'c1', document: { kind: 'Plan' }, target: 'env=prod', concurrency: '2', maxFailures: 1, window: 'Sat 02:00-04:00' }, 10);
  await plans.putPlan({ name: 'usb', checksum: 'c2', document: {}, target: '', concurrency: '1', maxFailures: 0, window: null }, 11);
  await plans.assign('motd', ['n1', 'n2'], 'c1', 12);
  await plans.recordResults('a1', 'n1', [{ seq: 1, result: { plan: 'motd', checksum: 'c1', state: 'Succeeded', instruction: null, exitCode: 0, message: 'ok', since: 'x', step: { label: 's', exitCode: 0, output: 'hi', runs: 1 } } }]);
  await plans.close();

  // A release whose file is gone: refused, nothing left in the target.
  const broken = await pg.createDatabase();
  rmSync(join(dir, 'releases/0.2.0/drover-linux-amd64'));
  await t.rejects(migrateSqliteToPostgres(dir, broken), { code: 'VERIFY_FAILED', message: /release 0\.2\.0 amd64: .* is missing/ });
  const check = await PgStore.open(broken);
  t.equal((await new PgPlanStore(check.db).plans()).length, 0, 'rolled back: no plans in the target');
  await check.close();
  writeFileSync(join(dir, 'releases/0.2.0/drover-linux-amd64'), bytes);

  const url = await pg.createDatabase();
  const report = await migrateSqliteToPostgres(dir, url);
  const count = (table: string) => report.tables.find((c) => c.table === table);
  t.same(count('plans'), { table: 'plans', source: 2, target: 2 });
  t.same(count('plan_nodes'), { table: 'plan_nodes', source: 2, target: 2 });
  t.same(count('plan_agent_seq'), { table: 'plan_agent_seq', source: 1, target: 1 });
  t.same(count('releases'), { table: 'releases', source: 1, target: 1 });
  t.same(count('upgrade_agents'), { table: 'upgrade_agents', source: 1, target: 1 });
  t.same(count('release_chunks'), { table: 'release_chunks', source: 2, target: 2 });
  t.equal(report.tables.filter((c) => c.table === 'plans').length, 1, 'each table once');

  const target = await PgStore.open(url);
  t.teardown(() => target.close());
  const pgPlans = new PgPlanStore(target.db);
  t.match(await pgPlans.plan('motd'), { checksum: 'c1', window: 'Sat 02:00-04:00', concurrency: '2', maxFailures: 1, document: { kind: 'Plan' } });
  t.match((await pgPlans.nodePlans('n1'))[0], { assigned: 'c1', state: 'Succeeded', steps: { s: { output: 'hi' } }, reports: 1 });
  t.equal(await pgPlans.lastSeq('a1'), 1, 'the outbox sequence moved: a resent batch is not stored twice');
  t.match(await target.upgrades.activeRollout(), { id: 'r1', version: '0.2.0' });
  const out = join(dir, 'fetched');
  t.ok(await target.upgrades.readArtifact('0.2.0', 'amd64', out));
  t.ok(readFileSync(out).equals(bytes), 'the executable is in the database, byte for byte');
});
