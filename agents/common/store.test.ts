import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { AgentStore, DB_FILE } from './store.ts';
import { MIGRATIONS } from './store-migrations.ts';
import { sampleIdentity } from './test-fixtures.ts';

t.test('store: creates the data dir 0700 and the database 0600, in WAL mode, migrated', async (t) => {
  const dir = path.join(t.testdir(), 'agent');
  const store = AgentStore.open(dir, { create: true });
  t.teardown(() => store.close());
  t.equal(fs.statSync(dir).mode & 0o777, 0o700);
  t.equal(fs.statSync(path.join(dir, DB_FILE)).mode & 0o777, 0o600);
  t.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(store.schemaVersion(), MIGRATIONS.length);
});

t.test('store: tightens an existing data dir to 0700', async (t) => {
  const dir = t.testdir();
  fs.chmodSync(dir, 0o755);
  AgentStore.open(dir, { create: true }).close();
  t.equal(fs.statSync(dir).mode & 0o777, 0o700);
});

t.test('store: opening a missing store without create is NOT_REGISTERED and creates nothing', async (t) => {
  const dir = path.join(t.testdir(), 'none');
  t.throws(() => AgentStore.open(dir, { create: false }), { code: 'NOT_REGISTERED' });
  t.notOk(fs.existsSync(dir));
});

t.test('store: identity round-trips and survives reopening; credential rotation replaces it', async (t) => {
  const dir = t.testdir();
  const s1 = AgentStore.open(dir, { create: true });
  t.equal(s1.getIdentity(), undefined);
  s1.saveIdentity(sampleIdentity());
  s1.close();
  const s2 = AgentStore.open(dir, { create: false });
  t.teardown(() => s2.close());
  t.same(s2.getIdentity(), sampleIdentity());
  s2.saveCredential('a1.new', '2026-12-01T00:00:00.000Z', null);
  t.equal(s2.getIdentity()?.credential, 'a1.new');
  t.equal(s2.getIdentity()?.credentialExpiresAt, null);
  s2.clearIdentity();
  t.equal(s2.getIdentity(), undefined);
});

t.test('store: role state upserts per role', async (t) => {
  const store = AgentStore.open(t.testdir(), { create: true });
  t.teardown(() => store.close());
  const base = { since: 't0', lastError: null, nextRetryAt: null, pid: 1, updatedAt: 't0' } as const;
  store.putRoleState({ role: 'cluster', state: 'connecting', ...base });
  store.putRoleState({ role: 'cluster', state: 'disconnected', ...base, lastError: 'E', nextRetryAt: 't1' });
  store.putRoleState({ role: 'fleet', state: 'connected', ...base });
  const states = store.roleStates();
  t.equal(states.length, 2);
  t.match(states.find((s) => s.role === 'cluster'), { state: 'disconnected', lastError: 'E', nextRetryAt: 't1' });
});

t.test('store: a schema newer than this build is refused with STORE_ERROR', async (t) => {
  const dir = t.testdir();
  const s = AgentStore.open(dir, { create: true });
  s.db.pragma(`user_version = ${MIGRATIONS.length + 5}`);
  s.close();
  t.throws(() => AgentStore.open(dir, { create: false }), { code: 'STORE_ERROR', message: /newer/ });
});

t.test('store: only one holder gets the rotation lease until it expires or is released', async (t) => {
  const dir = t.testdir();
  const a = AgentStore.open(dir, { create: true });
  const b = AgentStore.open(dir, { create: false });
  t.teardown(() => { a.close(); b.close(); });
  t.ok(a.tryTakeRotationLease('a', 1000, 500));
  t.notOk(b.tryTakeRotationLease('b', 1200, 500), 'held by a');
  t.ok(b.tryTakeRotationLease('b', 1600, 500), 'expired lease can be taken over');
  b.releaseRotationLease('b');
  t.ok(a.tryTakeRotationLease('a', 1700, 500), 'released lease is free');
});

t.test('store: two processes opening a fresh store at once both end up migrated once', async (t) => {
  const dir = t.testdir();
  const { spawn } = await import('node:child_process');
  const script = `import { AgentStore } from ${JSON.stringify(new URL('./store.ts', import.meta.url).href)}; const s = AgentStore.open(process.argv[1], { create: true }); process.stdout.write(String(s.schemaVersion())); s.close();`;
  const run = () => new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
  const results = await Promise.all([run(), run(), run()]);
  for (const r of results) t.same(r, { code: 0, out: String(MIGRATIONS.length) });
});
