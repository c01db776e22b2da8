// Agent self-upgrade with the real packaged amd64 executables, run natively (issue 16): the
// current tree as `npm run package` builds it is the installed "previous" release; the same tree
// built with `--version-override 0.1.1-next` is the release upgraded to (no frozen build of an
// earlier release exists on this branch). Both are signed with the build cache's development key,
// whose public half is inside both executables. The server runs from this checkout. The failure
// modes (canary exits at start, never connects, hangs, kill -9 mid-swap) are in
// packaging-upgrade-failures.test.ts.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtCurrent, builtNext, NEXT } from './packaged-builds.ts';
import { createToken, drover, startServer, waitFor, type ServerProc } from './agent-helpers.ts';
import { Supervisor } from './upgrade-helpers.ts';
import { buildInfo } from '../../cli/build-info.ts';

/** This tree's release (package.json), which the packaged "current" executable reports. */
const CURRENT = buildInfo().version;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-pkg-upgrade-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const current = builtCurrent();
const next = builtNext();
const exeOf = (dir: string) => path.join(dir, 'drover-linux-amd64');
const versionOf = (exe: string): string => (JSON.parse(spawnSync(exe, ['version', '--json'], { encoding: 'utf8' }).stdout) as { version: string }).version;

let server: ServerProc;
const sups: Supervisor[] = [];
t.before(async () => {
  server = await startServer(path.join(tmp, 'server'), 0, { DROVER_UPGRADE_SYNC_MS: '250', DROVER_LOG_LEVEL: 'info' });
});
t.teardown(async () => {
  for (const s of sups) await s.stop();
  await server?.proc.stop();
});
const admin = (args: string[]) => drover([...args, '--data-dir', server.dataDir]);

async function installed(name: string): Promise<{ exe: string; data: string; agentId: string }> {
  const exe = path.join(tmp, name, 'bin', 'drover');
  fs.mkdirSync(path.dirname(exe), { recursive: true });
  fs.copyFileSync(exeOf(current), exe);
  fs.chmodSync(exe, 0o755);
  const data = path.join(tmp, name, 'data');
  const token = await createToken(server.dataDir, ['--labels', `pkg=${name}`]);
  const reg = spawnSync(exe, ['agent', 'register', '--server', server.url, '--token', token, '--name', name, '--data-dir', data], { encoding: 'utf8' });
  if (reg.status !== 0) throw new Error(reg.stderr);
  return { exe, data, agentId: /registered agent (\S+):/.exec(reg.stdout)?.[1] ?? '' };
}

t.test('packaged amd64: previous → next driven by the server; the agent runs the new executable', async (t) => {
  t.equal(versionOf(exeOf(current)), CURRENT);
  t.equal(versionOf(exeOf(next)), NEXT);
  const imp = await admin(['release', 'import', next]);
  t.equal(imp.exitCode, 0, imp.stderr);
  const dev = await installed('pkg1');
  const sup = new Supervisor(dev.exe, dev.data, { DROVER_LOG_LEVEL: 'info' });
  sups.push(sup);
  t.equal((await admin(['upgrade', 'agents', '--version', NEXT, '--target', 'pkg=pkg1'])).exitCode, 0);
  const row = await waitFor('the packaged agent upgraded', async () => {
    const s = JSON.parse((await admin(['upgrade', 'status', '--json'])).stdout) as { agents: { id: string; state: string; bytes: number; total: number; version: string | null }[] };
    const a = s.agents.find((x) => x.id === dev.agentId);
    return a?.state === 'Succeeded' ? a : undefined;
  }, 300_000);
  const size = fs.statSync(exeOf(next)).size;
  t.ok(row.total > 0 && row.total < size * 0.6, `the executable went through the tunnel gzip-compressed (${row.total} of ${size} bytes)`);
  t.equal(row.bytes, row.total, 'all of it');
  t.equal(versionOf(dev.exe), NEXT, 'the installed executable is the new release');
  t.notOk(fs.existsSync(`${dev.exe}.previous`), 'previous removed once the new one connected');
  await waitFor('the server to see the new version in the facts', async () => {
    const s = JSON.parse((await admin(['upgrade', 'status', '--json'])).stdout) as { agents: { id: string; version: string | null }[] };
    return s.agents.find((x) => x.id === dev.agentId)?.version === NEXT;
  }, 60_000);
});

t.test('packaged amd64: bad signature and bad checksum are refused by the agent; the running agent is untouched', async (t) => {
  const dev = await installed('pkg2');
  const before = fs.readFileSync(dev.exe);
  const badSig = path.join(tmp, 'badsig');
  fs.cpSync(next, badSig, { recursive: true });
  const sig = Buffer.from(fs.readFileSync(path.join(badSig, 'sha256sums.sig'), 'utf8').trim(), 'base64');
  sig[0] = (sig[0] ?? 0) ^ 0xff;
  fs.writeFileSync(path.join(badSig, 'sha256sums.sig'), sig.toString('base64'));
  let r = spawnSync(dev.exe, ['agent', 'upgrade', '--from', badSig, '--data-dir', dev.data], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stderr, /SIGNATURE_INVALID/);
  const badSum = path.join(tmp, 'badsum');
  fs.cpSync(next, badSum, { recursive: true });
  fs.appendFileSync(path.join(badSum, 'drover-linux-amd64'), Buffer.from('x'));
  r = spawnSync(dev.exe, ['agent', 'upgrade', '--from', badSum, '--data-dir', dev.data], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stderr, /CHECKSUM_MISMATCH/);
  t.ok(fs.readFileSync(dev.exe).equals(before), 'the installed executable is byte for byte the same');
  t.notOk(fs.existsSync(`${dev.exe}.previous`));
  // Air gap, the good one: verified, swapped, and healthy after a start.
  r = spawnSync(dev.exe, ['agent', 'upgrade', '--from', next, '--data-dir', dev.data, '--no-restart'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.equal(versionOf(dev.exe), NEXT);
  const sup = new Supervisor(dev.exe, dev.data, { DROVER_LOG_LEVEL: 'info' });
  sups.push(sup);
  await waitFor('the air-gapped upgrade to commit', () => (JSON.parse(fs.readFileSync(path.join(dev.data, 'upgrade', 'state.json'), 'utf8')) as { phase: string }).phase === 'Succeeded', 120_000);
});

const rowOf = async (id: string): Promise<{ state: string; message: string } | undefined> =>
  (JSON.parse((await admin(['upgrade', 'status', '--json'])).stdout) as { agents: { id: string; state: string; message: string }[] }).agents.find((x) => x.id === id);

t.test('packaged amd64: an agent offline during the rollout is upgraded when it returns', async (t) => {
  const dev = await installed('pkg3');
  t.equal((await admin(['upgrade', 'agents', '--version', NEXT, '--target', 'pkg=pkg3'])).exitCode, 0);
  t.equal((await rowOf(dev.agentId))?.state, 'Offline', 'shown as Offline (deferred)');
  const sup = new Supervisor(dev.exe, dev.data, { DROVER_LOG_LEVEL: 'info' });
  sups.push(sup);
  await waitFor('the returning agent upgraded', async () => (await rowOf(dev.agentId))?.state === 'Succeeded', 300_000);
  t.equal(versionOf(dev.exe), NEXT);
});

t.test('packaged amd64, one unit per role: every role process moves to the new executable', async (t) => {
  const dev = await installed('pkg4');
  const roleSups = ['cluster', 'node'].map((role) => {
    const s = new Supervisor(dev.exe, dev.data, { DROVER_LOG_LEVEL: 'info' }, ['--roles', role]);
    sups.push(s);
    return s;
  });
  const runningImages = (): string[] => roleSups.map((s) => {
    const st = fs.statSync(`/proc/${s.child?.pid ?? 0}/exe`, { throwIfNoEntry: false });
    return st ? `${st.dev}:${st.ino}` : 'gone';
  });
  await waitFor('both role processes connected', () => {
    const st = spawnSync(dev.exe, ['agent', 'status', '--json', '--data-dir', dev.data], { encoding: 'utf8' });
    const roles = st.status === 0 ? (JSON.parse(st.stdout) as { roles: { name: string; state: string }[] }).roles : [];
    return ['cluster', 'node'].every((r) => roles.find((x) => x.name === r)?.state === 'connected');
  }, 90_000);
  t.equal((await admin(['upgrade', 'agents', '--version', NEXT, '--target', 'pkg=pkg4'])).exitCode, 0);
  await waitFor('the device upgraded', async () => (await rowOf(dev.agentId))?.state === 'Succeeded', 300_000);
  const st = fs.statSync(dev.exe);
  await waitFor('both role processes run the new executable', () => runningImages().every((i) => i === `${st.dev}:${st.ino}`), 60_000);
  t.equal(versionOf(dev.exe), NEXT);
  t.notOk(fs.existsSync(`${dev.exe}.previous`), 'committed once both roles connected on it');
});
