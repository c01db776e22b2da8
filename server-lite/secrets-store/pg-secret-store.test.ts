// Source secrets on PostgreSQL (issue 17): sealed at rest in the shared database, readable back,
// replaced only on request; two replicas (two pools, the same secrets.key) see each other's
// writes once they refresh, and a replica keeps its copy while the database is down.
import t from 'tap';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgDb } from '../store/pg-db.ts';
import { startPostgres } from '../../test/pg/harness.ts';
import { PgSecretStore } from './pg-secret-store.ts';

t.test('PostgreSQL secret store: sealed, replace on request, shared by replicas', async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const url = await pg.createDatabase('secrets');
  const dirA = mkdtempSync(join(tmpdir(), 'drover-secrets-a-'));
  const dirB = mkdtempSync(join(tmpdir(), 'drover-secrets-b-'));
  t.teardown(() => {
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  });
  const dbA = new PgDb(url);
  const dbB = new PgDb(url);
  t.teardown(async () => {
    await dbA.close();
    await dbB.close();
  });
  const a = await PgSecretStore.open(dbA, dirA, { refreshMs: 0 });
  cpSync(join(dirA, 'secrets.key'), join(dirB, 'secrets.key'));
  const b = await PgSecretStore.open(dbB, dirB, { refreshMs: 0 });
  t.teardown(() => {
    a.close();
    b.close();
  });

  await a.put({ name: 'git-cred', type: 'basic-auth', data: { username: 'alice', password: 'pa55-very-secret' } }, 1);
  t.same(a.get('git-cred')?.data, { username: 'alice', password: 'pa55-very-secret' });
  const raw = await dbA.rows('SELECT sealed::text AS s FROM source_secrets');
  t.notMatch(JSON.stringify(raw), /pa55-very-secret/, 'the password is not in the database');
  await t.rejects(a.put({ name: 'git-cred', type: 'token', data: { token: 'x' } }, 2), { code: 'SECRET_EXISTS' });
  await t.rejects(a.put({ name: 'bad', type: 'token', data: {} }, 2), { code: 'SECRET_INVALID' });

  t.equal(b.get('git-cred'), undefined, 'B has not refreshed yet');
  await b.refresh();
  t.same(b.get('git-cred')?.data, { username: 'alice', password: 'pa55-very-secret' }, "B opens A's secret with the shared key");
  await b.put({ name: 'git-cred', type: 'token', data: { token: 'rotated' } }, 3, { replace: true });
  await a.refresh();
  t.same(a.get('git-cred'), { name: 'git-cred', type: 'token', data: { token: 'rotated' } }, 'a rotation on B reaches A');
  t.match(a.list(), [{ name: 'git-cred', type: 'token', fields: ['token'], createdAt: 1, updatedAt: 3 }]);

  await pg.halt();
  await t.rejects(a.refresh(), 'database down: refresh fails');
  t.same(a.get('git-cred')?.data, { token: 'rotated' }, 'and the last copy is still served');
  await pg.start();
  t.ok(await a.delete('git-cred'));
  t.notOk(await a.delete('git-cred'));
  await b.refresh();
  t.same(b.list(), []);
});
