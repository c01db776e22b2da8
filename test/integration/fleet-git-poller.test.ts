// The gitrepo poller with the real `git`: a repository made in a temp dir, served by file:// and by
// a local `git daemon`; new commits are seen, branches and pinned revisions followed, outages back
// off exponentially and recover, pollNow() coalesces, URL credentials never reach a message.
import t from 'tap';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { freePorts } from '../k8s/ports.ts';
import { GitPoller, type PollerTimers, type PollResult } from '../../server-lite/fleet/git-poller.ts';
import { redactUrl } from '../../server-lite/fleet/git-checkout.ts';

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name} }\n`;

/** A source repository with helpers to commit files; branch `main`. */
function sourceRepo() {
  const dir = mkdtempSync(join(tmpdir(), 'drover-fleet-src-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } })
      .toString()
      .trim();
  git('init', '-q', '-b', 'main');
  const commit = (files: Record<string, string>, message: string): string => {
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
    git('add', '-A');
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  return { dir, git, commit };
}

/** Timers that record the delays asked for and never fire: tests drive polls with pollNow(). */
function recordingTimers(): PollerTimers & { delays: number[] } {
  const delays: number[] = [];
  return { delays, setTimeout: (_fn, ms) => (delays.push(ms), delays.length), clearTimeout: () => {} };
}

t.test('git poller: first poll reports the commit and bundles; a new commit is reported as changed', async (t) => {
  const src = sourceRepo();
  const work = mkdtempSync(join(tmpdir(), 'drover-fleet-work-'));
  t.teardown(() => [src.dir, work].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const c1 = src.commit({ 'apps/web/fleet.yaml': 'defaultNamespace: web\n', 'apps/web/cm.yaml': cm('web'), 'infra/cm.yaml': cm('infra') }, 'one');
  const poller = new GitPoller({ name: 'demo', repo: `file://${src.dir}`, branch: 'main', paths: ['apps', 'infra'], workDir: work, intervalMs: 30_000, timers: recordingTimers() });
  const r1 = await poller.pollNow();
  t.equal(r1.error, undefined);
  t.equal(r1.commit, c1);
  t.equal(r1.changed, true);
  t.same(r1.bundles.map((b) => b.name), ['demo-apps-web', 'demo-infra']);
  t.equal(r1.nextPollMs, 30_000);
  const r2 = await poller.pollNow();
  t.equal(r2.changed, false, 'same commit, not changed');
  const c2 = src.commit({ 'apps/db/fleet.yaml': '', 'apps/db/cm.yaml': cm('db') }, 'two');
  const r3 = await poller.pollNow();
  t.equal(r3.commit, c2);
  t.equal(r3.changed, true);
  t.same(r3.bundles.map((b) => b.name), ['demo-apps-db', 'demo-apps-web', 'demo-infra']);
  // A force-push that rewrites the branch is followed too.
  src.git('reset', '-q', '--hard', c1);
  const c3 = src.commit({ 'infra/cm2.yaml': cm('infra2') }, 'rewritten');
  const r4 = await poller.pollNow();
  t.same([r4.commit, r4.changed, r4.error], [c3, true, undefined]);
  t.same(r4.bundles.map((b) => b.name), ['demo-apps-web', 'demo-infra'], 'the rewritten history has no apps/db');
});

t.test('git poller: follows a named branch, and a pinned revision (commit or tag) wins over the branch', async (t) => {
  const src = sourceRepo();
  const work = mkdtempSync(join(tmpdir(), 'drover-fleet-work-'));
  t.teardown(() => [src.dir, work].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const first = src.commit({ 'a/cm.yaml': cm('a') }, 'first');
  src.git('tag', 'v1');
  const second = src.commit({ 'b/cm.yaml': cm('b') }, 'second');
  src.git('checkout', '-q', '-b', 'release', first);
  const rel = src.commit({ 'r/cm.yaml': cm('r') }, 'release only');
  src.git('checkout', '-q', 'main');
  const branch = await new GitPoller({ name: 'x', repo: `file://${src.dir}`, branch: 'release', workDir: join(work, '1'), timers: recordingTimers() }).pollNow();
  t.equal(branch.commit, rel);
  t.same(branch.bundles.map((b) => b.path), ['.']);
  const pinned = await new GitPoller({ name: 'x', repo: `file://${src.dir}`, branch: 'main', revision: first, paths: ['a'], workDir: join(work, '2'), timers: recordingTimers() }).pollNow();
  t.equal(pinned.commit, first);
  const tag = await new GitPoller({ name: 'x', repo: `file://${src.dir}`, revision: 'v1', paths: ['a'], workDir: join(work, '3'), timers: recordingTimers() }).pollNow();
  t.equal(tag.commit, first);
  const gone = await new GitPoller({ name: 'x', repo: `file://${src.dir}`, paths: ['b'], revision: 'v1', workDir: join(work, '3'), timers: recordingTimers() }).pollNow();
  t.equal(gone.error?.code, 'BUNDLE_NOT_FOUND', 'the pinned checkout is clean: b/ from main is not there');
  // `second` is reachable only through main's history, below a shallow checkout of main's tip.
  src.commit({ 'c/cm.yaml': cm('c') }, 'third');
  const shallowThenPinned = join(work, '5');
  t.equal((await new GitPoller({ name: 'x', repo: `file://${src.dir}`, branch: 'main', workDir: shallowThenPinned, timers: recordingTimers() }).pollNow()).error, undefined);
  const repinned = await new GitPoller({ name: 'x', repo: `file://${src.dir}`, revision: second, paths: ['b'], workDir: shallowThenPinned, timers: recordingTimers() }).pollNow();
  t.same([repinned.commit, repinned.error], [second, undefined], 'a shallow branch checkout can later be pinned to an older commit');
  const missing = await new GitPoller({ name: 'x', repo: `file://${src.dir}`, branch: 'nope', workDir: join(work, '4'), timers: recordingTimers() }).pollNow();
  t.equal(missing.error?.code, 'GIT_REF_NOT_FOUND');
});

t.test('git poller: an unreachable repository backs off exponentially, then recovers to the interval', async (t) => {
  const src = sourceRepo();
  const work = mkdtempSync(join(tmpdir(), 'drover-fleet-work-'));
  const away = `${src.dir}-away`;
  t.teardown(() => [src.dir, away, work].forEach((d) => rmSync(d, { recursive: true, force: true })));
  src.commit({ 'cm.yaml': cm('a') }, 'one');
  const timers = recordingTimers();
  const poller = new GitPoller({ name: 'x', repo: `file://${src.dir}`, branch: 'main', workDir: work, intervalMs: 20_000, timers, random: () => 1 });
  poller.start();
  t.teardown(() => poller.stop());
  t.equal((await poller.pollNow()).failures, 0);
  renameSync(src.dir, away);
  const fails: PollResult[] = [];
  for (let i = 0; i < 4; i++) fails.push(await poller.pollNow());
  t.same(fails.map((f) => [f.error?.code, f.failures, f.nextPollMs]), [
    ['GIT_REPO_NOT_FOUND', 1, 1000],
    ['GIT_REPO_NOT_FOUND', 2, 2000],
    ['GIT_REPO_NOT_FOUND', 3, 4000],
    ['GIT_REPO_NOT_FOUND', 4, 8000],
  ]);
  t.same(fails[0]?.bundles, [], 'nothing partial on failure');
  renameSync(away, src.dir);
  const back = await poller.pollNow();
  t.same([back.error, back.failures, back.nextPollMs, back.changed], [undefined, 0, 20_000, false]);
  t.same(timers.delays, [0, 20_000, 1000, 2000, 4000, 8000, 20_000], 'the scheduler was asked for exactly these delays');
});

t.test('git poller: pollNow during a poll runs one more poll after it, and concurrent calls share it', async (t) => {
  const src = sourceRepo();
  const work = mkdtempSync(join(tmpdir(), 'drover-fleet-work-'));
  t.teardown(() => [src.dir, work].forEach((d) => rmSync(d, { recursive: true, force: true })));
  src.commit({ 'cm.yaml': cm('a') }, 'one');
  let polls = 0;
  const poller = new GitPoller({ name: 'x', repo: `file://${src.dir}`, branch: 'main', workDir: work, timers: recordingTimers(), onPoll: () => void polls++ });
  const first = poller.pollNow();
  const second = poller.pollNow();
  const third = poller.pollNow();
  t.equal(second, third, 'queued webhook triggers coalesce');
  await Promise.all([first, second, third]);
  t.equal(polls, 2);
});

t.test('git poller: start() polls at once and stop() waits for it; credentials in the URL are redacted', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'drover-fleet-work-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const seen: PollResult[] = [];
  const [port] = await freePorts(1);
  const lines: string[] = [];
  const log = pino(new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) }));
  const poller = new GitPoller({ name: 'x', repo: `http://deploy:hunter2@127.0.0.1:${port}/repo.git`, workDir: work, onPoll: (r) => seen.push(r), log });
  poller.start();
  await new Promise<void>((resolve) => {
    const check = () => (seen.length > 0 ? resolve() : setTimeout(check, 20));
    check();
  });
  await poller.stop();
  t.equal(seen[0]?.error?.code, 'GIT_HOST_UNREACHABLE');
  t.notMatch(seen[0]?.error?.message ?? '', /hunter2/);
  const logged = JSON.parse(lines[0] ?? '{}') as { gitrepo?: string; code?: string; repo?: string };
  t.same([logged.gitrepo, logged.code, logged.repo], ['x', 'GIT_HOST_UNREACHABLE', `http://***@127.0.0.1:${port}/repo.git`], 'structured log line');
  t.notMatch(lines.join(''), /hunter2/, 'the secret never reaches the log');
  t.equal(redactUrl('https://user:secret@host/x.git'), 'https://***@host/x.git');
  t.equal(redactUrl('file:///tmp/x'), 'file:///tmp/x');
});

t.test('git poller: works against a local `git daemon` (git:// protocol)', async (t) => {
  const src = sourceRepo();
  const work = mkdtempSync(join(tmpdir(), 'drover-fleet-work-'));
  t.teardown(() => [src.dir, work].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const c1 = src.commit({ 'web/fleet.yaml': '', 'web/cm.yaml': cm('web') }, 'one');
  const [port] = await freePorts(1);
  const daemon = spawn('git', ['daemon', '--reuseaddr', '--listen=127.0.0.1', `--port=${port}`, `--base-path=${dirname(src.dir)}`, '--export-all', src.dir], { stdio: 'ignore' });
  t.teardown(() => void daemon.kill());
  const url = `git://127.0.0.1:${port}/${src.dir.split('/').pop()}`;
  const poller = new GitPoller({ name: 'd', repo: url, branch: 'main', workDir: work, timers: recordingTimers() });
  // The daemon needs a moment to listen: poll until it answers (bounded by attempts, not by time).
  let r = await poller.pollNow();
  for (let i = 0; i < 50 && r.error; i++) {
    await new Promise((res) => setTimeout(res, 100));
    r = await poller.pollNow();
  }
  t.equal(r.error, undefined);
  t.equal(r.commit, c1);
  t.same(r.bundles.map((b) => b.name), ['d-web']);
  const c2 = src.commit({ 'web/cm2.yaml': cm('web2') }, 'two');
  t.equal((await poller.pollNow()).commit, c2);
});
