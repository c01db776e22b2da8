// The executor against real files and real processes (sh), on an in-memory agent database.
import t, { type Test } from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import Database from 'better-sqlite3';
import pino from 'pino';
import { checkPlan, planChecksum } from '../../protocol/index.ts';
import { createPlanStore, type PlanResult } from './plan-store.ts';
import { PlanExecutor } from './plan-executor.ts';
import { createExecutorLease } from './executor-lease.ts';
import { selfSignedCert } from '../common/test-fixtures.ts';

function setup(t: Test) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-plan-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = createPlanStore(new Database(':memory:'));
  const exec = new PlanExecutor({ store, backupDir: path.join(dir, 'backups'), log: pino({ level: 'silent' }) });
  const run = async (name: string, doc: unknown) => {
    const { plan } = checkPlan(doc);
    const checksum = planChecksum(plan);
    t.same(store.accept(name, checksum, plan, 'server'), { accepted: true, state: 'Pending' });
    await exec.kick();
    return store.get(name)!;
  };
  const results = (): PlanResult[] => store.outbox.peek(10_000).map((r) => JSON.parse(r.body) as PlanResult);
  return { dir, store, exec, run, results };
}

t.test('executor: files are written with their mode, instructions run in order, exit codes and output are kept', async (t) => {
  const { dir, run, results, store } = setup(t);
  const f = path.join(dir, 'etc', 'motd');
  const row = await run('demo', {
    kind: 'Plan',
    files: [{ path: f, content: 'hello\n', mode: '0600' }],
    instructions: [{ name: 'read', command: '/bin/sh', args: ['-c', `cat ${f}; echo err >&2`], timeout: '10s', idempotent: true }],
  });
  t.equal(row.state, 'Succeeded');
  t.equal(fs.readFileSync(f, 'utf8'), 'hello\n');
  t.equal(fs.statSync(f).mode & 0o777, 0o600);
  const step = results().find((r) => r.step?.label === 'instruction read')?.step;
  t.match(step, { exitCode: 0, output: /hello\nerr\n/, runs: 1 });
  t.same(results().map((r) => r.state).filter((s, i, a) => s !== a[i - 1]), ['Pending', 'InProgress', 'Succeeded'], 'the outbox holds the states in order');
  t.equal(store.history().length, 1);
});

t.test('executor: a failing instruction rolls back: previous file versions restored, new files removed, rollback instructions run', async (t) => {
  const { dir, run } = setup(t);
  const old = path.join(dir, 'config');
  fs.writeFileSync(old, 'v1');
  const fresh = path.join(dir, 'new-file');
  const marker = path.join(dir, 'rolled-back');
  const row = await run('bad', {
    kind: 'Plan',
    files: [{ path: old, content: 'v2' }, { path: fresh, content: 'x' }],
    instructions: [{ name: 'boom', command: '/bin/sh', args: ['-c', 'exit 3'], timeout: '10s' }],
    rollback: [{ name: 'mark', command: '/bin/sh', args: ['-c', `echo done > ${marker}`], timeout: '10s', idempotent: true }],
  });
  t.equal(row.state, 'RolledBack');
  t.match(row.message, /instruction boom failed: exit code 3/);
  t.equal(fs.readFileSync(old, 'utf8'), 'v1');
  t.notOk(fs.existsSync(fresh));
  t.equal(fs.readFileSync(marker, 'utf8'), 'done\n');
});

t.test('executor: onFailure pause leaves the plan Paused at the failed step, nothing rolled back', async (t) => {
  const { dir, run } = setup(t);
  const f = path.join(dir, 'kept');
  const row = await run('p', { kind: 'Plan', onFailure: 'pause', files: [{ path: f, content: 'new' }], instructions: [{ command: '/bin/false', timeout: 5 }] });
  t.equal(row.state, 'Paused');
  t.equal(fs.readFileSync(f, 'utf8'), 'new');
});

t.test('executor: a hanging instruction stops at its timeout and its whole process group is killed', async (t) => {
  const { dir, run } = setup(t);
  const pidFile = path.join(dir, 'child.pid');
  const row = await run('hang', {
    kind: 'Plan',
    instructions: [{ name: 'hang', command: '/bin/sh', args: ['-c', `sleep 300 & echo $! > ${pidFile}; wait`], timeout: '1s' }],
  });
  t.equal(row.state, 'RolledBack');
  t.match(row.message, /timed out after 1000 ms/);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  let alive = true;
  for (let i = 0; i < 100 && alive; i++) {
    try {
      process.kill(pid, 0);
      await new Promise((r) => setTimeout(r, 50));
    } catch {
      alive = false;
    }
  }
  t.notOk(alive, 'the grandchild (sleep) was killed with the group');
});

t.test('executor: an interrupted non-idempotent instruction is not run again; an interrupted idempotent one is', async (t) => {
  const { dir, store, exec } = setup(t);
  const count = path.join(dir, 'count');
  const doc = (idempotent: boolean) => ({ kind: 'Plan', instructions: [{ name: 'append', command: '/bin/sh', args: ['-c', `echo x >> ${count}`], timeout: 5, idempotent }] });
  for (const idempotent of [false, true]) {
    fs.rmSync(count, { force: true });
    const { plan } = checkPlan(doc(idempotent));
    const name = `i-${idempotent}`;
    store.accept(name, planChecksum(plan), plan, 'server');
    // What a kill -9 right after the step was marked started leaves behind.
    const row = store.save({ ...store.get(name)!, state: 'InProgress' });
    store.startStep(row, 'instruction append');
    fs.writeFileSync(count, 'x\n');
    await exec.kick();
    const end = store.get(name)!;
    if (idempotent) {
      t.equal(end.state, 'Succeeded');
      t.equal(fs.readFileSync(count, 'utf8'), 'x\nx\n', 'rerun');
    } else {
      t.equal(end.state, 'RolledBack');
      t.match(end.message, /interrupted .* not run again/);
      t.equal(fs.readFileSync(count, 'utf8'), 'x\n', 'not run a second time');
    }
  }
});

t.test('executor: probes (exec and HTTPS with the plan\'s CA) decide success', async (t) => {
  const { dir, run } = setup(t);
  const { key, cert } = selfSignedCert(dir);
  const server = https.createServer({ key, cert }, (req, res) => res.writeHead(req.url === '/readyz' ? 200 : 500).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const ca = cert;
  const ok = await run('ok', { kind: 'Plan', probes: [
    { name: 'ready', http: { url: `https://127.0.0.1:${port}/readyz`, caCert: ca }, period: '100ms', successThreshold: 2 },
    { name: 'exec', exec: { command: '/bin/true' }, period: '100ms' },
  ] });
  t.equal(ok.state, 'Succeeded');
  const bad = await run('bad', { kind: 'Plan', probes: [{ name: 'broken', http: { url: `https://127.0.0.1:${port}/broken`, caCert: ca }, period: '100ms', failureThreshold: 2 }] });
  t.equal(bad.state, 'RolledBack');
  t.match(bad.message, /probe broken failed 2 times in a row \(HTTP 500\)/);
  const untrusted = await run('untrusted', { kind: 'Plan', probes: [{ name: 'noca', http: { url: `https://127.0.0.1:${port}/readyz` }, period: '100ms', failureThreshold: 1 }] });
  t.equal(untrusted.state, 'RolledBack', 'without the CA the certificate is not trusted');
});

t.test('executor: cancel of a pending plan; a new checksum is refused while one runs', async (t) => {
  const { store } = setup(t);
  const { plan } = checkPlan({ kind: 'Plan', instructions: [{ command: '/bin/true', timeout: 1 }] });
  store.accept('c', planChecksum(plan), plan, 'server');
  t.ok(store.requestCancel('c'));
  const row = store.save({ ...store.get('c')!, state: 'InProgress' });
  const other = checkPlan({ kind: 'Plan', instructions: [{ command: '/bin/false', timeout: 1 }] }).plan;
  t.match(store.accept('c', planChecksum(other), other, 'server'), { accepted: false, reason: /running/ });
  t.equal(row.state, 'InProgress');
});

t.test('executor: a kick with nothing to run does not stop later kicks from running (regression)', async (t) => {
  const { store, exec } = setup(t);
  await exec.kick();
  const { plan } = checkPlan({ kind: 'Plan', instructions: [{ command: '/bin/true', timeout: 1 }] });
  store.accept('late', planChecksum(plan), plan, 'server');
  await exec.kick();
  t.equal(store.get('late')?.state, 'Succeeded');
});

t.test('executor lease: one process runs a data dir\'s plans; a dead holder\'s lease is taken over at once', async (t) => {
  const db = new Database(':memory:');
  createPlanStore(db);
  const alive = new Set([100, 200]);
  const a = createExecutorLease(db, 100, (p) => alive.has(p));
  const b = createExecutorLease(db, 200, (p) => alive.has(p));
  t.ok(a.take());
  t.notOk(b.take(), 'held by a live process');
  t.ok(a.take(), 'the holder keeps it');
  alive.delete(100);
  t.ok(b.take(), 'taken over from a dead holder');
  b.release();
  t.equal(b.holder(), 0);
});
