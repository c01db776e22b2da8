// Agent self-upgrade failures with the real packaged amd64 executables, run natively (issue 16):
// the installed "previous" release is this tree as `npm run package` builds it (packaged-builds.ts); each broken "next"
// release is a genuinely signed release (sha256sums signed with the development release key the
// packaging uses, whose public half is built into the installed executable) whose executable is
// broken the way a real release can be:
//   - exits at start: the Node runtime without the injected application (a packaging slip);
//   - starts but never connects: a real build of a version the fleet's server does not support
//     yet (0.9.0: refused at every connect, decision 1011), so it runs drover code but never connects;
//   - hangs before any drover code runs: an executable that blocks and never exits.
// The agents run under the stand-in for systemd (upgrade-helpers.ts Supervisor, Type=notify
// semantics with a start timeout); the server runs from this checkout. No test switch exists in
// the product: the kill -9 "during the swap" stops the real process with strace at the rename that
// puts the new executable in place, then kills it.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { droverCacheDir } from '../../packaging/node-runtime.ts';
import { loadReleaseKey } from '../../packaging/release-signing.ts';
import { createToken, drover, startServer, testDir, waitFor, type ServerProc } from './agent-helpers.ts';
import { makeRelease, Supervisor } from './upgrade-helpers.ts';
import { builtCurrent, builtNext, builtVersion, NEXT } from './packaged-builds.ts';

interface Row { id: string; state: string; canary: boolean; message: string; bytes: number; total: number }
interface Status { state: string; message: string; agents: Row[] }

const tmp = testDir(t);
const current = path.join(builtCurrent(), 'drover-linux-amd64');
const next = builtNext();
/** A real build the server refuses at connect: newer minor than the server (decision 1011). */
const UNSUPPORTED = '0.9.0-unsupported';
const unsupported = builtVersion(UNSUPPORTED);
const devKey = loadReleaseKey({}, droverCacheDir());
const installedBytes = fs.readFileSync(current);

// Short start timeout for the stand-in for systemd: a normal start says READY=1 within a second or two.
const NOTIFY = { notify: { timeoutStartMs: 20_000, timeoutStopMs: 3_000 } };

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
const status = async (): Promise<Status> => JSON.parse((await admin(['upgrade', 'status', '--json'])).stdout) as Status;
const rowOf = async (id: string): Promise<Row | undefined> => (await status()).agents.find((a) => a.id === id);
const importRelease = async (dir: string): Promise<void> => {
  const r = await admin(['release', 'import', dir]);
  if (r.exitCode !== 0) throw new Error(`release import ${dir}: ${r.stderr}`);
};

interface Device { exe: string; data: string; agentId: string; sup?: Supervisor }

/** The packaged current release installed and registered; started under the supervisor unless told not to. */
async function device(name: string, label: string, opts: { env?: Record<string, string>; wrapFirst?: string[] } = {}): Promise<Device> {
  const exe = path.join(tmp, name, 'bin', 'drover');
  fs.mkdirSync(path.dirname(exe), { recursive: true });
  fs.copyFileSync(current, exe);
  fs.chmodSync(exe, 0o755);
  const data = path.join(tmp, name, 'data');
  const token = await createToken(server.dataDir, ['--labels', label]);
  const reg = spawnSync(exe, ['agent', 'register', '--server', server.url, '--token', token, '--name', name, '--data-dir', data], { encoding: 'utf8' });
  if (reg.status !== 0) throw new Error(reg.stderr);
  const sup = new Supervisor(exe, data, { DROVER_LOG_LEVEL: 'info', ...opts.env }, ['--roles', 'cluster'], [], { ...NOTIFY, ...(opts.wrapFirst ? { wrapFirst: opts.wrapFirst } : {}) });
  sups.push(sup);
  return { exe, data, agentId: /registered agent (\S+):/.exec(reg.stdout)?.[1] ?? '', sup };
}

const connected = async (d: Device): Promise<boolean> => {
  const st = spawnSync(d.exe, ['agent', 'status', '--json', '--data-dir', d.data], { encoding: 'utf8' });
  return st.status === 0 && (JSON.parse(st.stdout) as { roles: { name: string; state: string }[] }).roles.find((x) => x.name === 'cluster')?.state === 'connected';
};

t.test('packaged: a canary whose new executable exits at start is rolled back by itself and stops the rollout', async (t) => {
  // The Node runtime without the application injected: it starts, finds no `agent` script, exits 1.
  await importRelease(makeRelease(path.join(tmp, 'rel-exits'), '0.1.2-exits', fs.readFileSync(process.execPath), devKey));
  const a = await device('exits-a', 'wave=exits');
  const b = await device('exits-b', 'wave=exits');
  await waitFor('both agents connected', async () => (await connected(a)) && (await connected(b)), 60_000);
  const r = await admin(['upgrade', 'agents', '--version', '0.1.2-exits', '--target', 'wave=exits', '--canary', '1', '--max-unavailable', '2']);
  t.equal(r.exitCode, 0, r.stderr);
  const halted = await waitFor('the rollout to stop', async () => {
    const s = await status();
    return s.state === 'Halted' ? s : undefined;
  }, 180_000);
  const canary = halted.agents.find((x) => x.canary);
  t.equal(canary?.state, 'RolledBack', 'the canary rolled back');
  t.match(canary?.message, /exited before it connected/);
  t.same(halted.agents.filter((x) => !x.canary).map((x) => x.state), ['Pending'], 'the other agent was never touched');
  t.match(halted.message, /canary failed/);
  const dev = [a, b].find((x) => x.agentId === canary?.id);
  const other = [a, b].find((x) => x.agentId !== canary?.id);
  t.ok(fs.readFileSync(dev?.exe ?? '').equals(installedBytes), 'the previous packaged executable is back, byte for byte');
  t.ok(fs.readFileSync(other?.exe ?? '').equals(installedBytes), 'the other agent still has the previous executable');
  t.notOk(fs.existsSync(`${dev?.exe ?? ''}.previous`));
  await waitFor('the rolled-back canary to connect again', () => connected(dev as Device), 60_000);
});

t.test('packaged: a new executable that starts but never connects is rolled back at the health deadline', async (t) => {
  await importRelease(unsupported);
  const d = await device('noconnect', 'wave=noconnect', { env: { DROVER_UPGRADE_HEALTH_MS: '8000' } });
  await waitFor('the agent connected', () => connected(d), 60_000);
  t.equal((await admin(['upgrade', 'agents', '--version', UNSUPPORTED, '--target', 'wave=noconnect'])).exitCode, 0);
  const row = await waitFor('the agent to roll back', async () => {
    const x = await rowOf(d.agentId);
    return x?.state === 'RolledBack' ? x : undefined;
  }, 240_000);
  t.match(row.message, /did not connect within the health deadline/);
  t.match(d.sup?.output, /agent version 0\.9\.0-unsupported is newer than server version/, 'the new build really ran and was refused by the server');
  t.ok(fs.readFileSync(d.exe).equals(installedBytes), 'the previous packaged executable is back');
  await waitFor('the previous executable to connect again', () => connected(d), 60_000);
});

t.test('packaged: a new executable that hangs before any drover code runs is ended by the start timeout and rolled back', async (t) => {
  const hang = Buffer.from('#!/bin/sh\n# a release that blocks before any drover code runs, and never exits\nexec sleep 3600\n');
  await importRelease(makeRelease(path.join(tmp, 'rel-hang'), '0.1.3-hang', hang, devKey));
  const d = await device('hang', 'wave=hang');
  await waitFor('the agent connected', () => connected(d), 60_000);
  t.equal((await admin(['upgrade', 'agents', '--version', '0.1.3-hang', '--target', 'wave=hang'])).exitCode, 0);
  const row = await waitFor('the agent to roll back', async () => {
    const x = await rowOf(d.agentId);
    return x?.state === 'RolledBack' ? x : undefined;
  }, 180_000);
  t.ok((d.sup?.timeouts ?? 0) >= 1, 'the hanging start was ended by the start timeout (no READY=1)');
  t.match(row.message, /exited before it connected|did not connect within the health deadline/);
  t.ok(fs.readFileSync(d.exe).equals(installedBytes), 'the previous packaged executable is back');
  await waitFor('the previous executable to connect again', () => connected(d), 60_000);
});

t.test('packaged: kill -9 during the swap recovers to a working agent', async (t) => {
  await importRelease(next);
  // strace stops the real agent (SIGSTOP) at the rename that puts `<exe>.new` over `<exe>`: the
  // previous executable is kept, the record says Swapping; then the process is killed outright.
  const exe = path.join(tmp, 'swapkill', 'bin', 'drover');
  const d = await device('swapkill', 'wave=swapkill', {
    wrapFirst: ['strace', '-f', '-qq', '-o', '/dev/null', '-P', `${exe}.new`, '-e', 'trace=rename,renameat,renameat2', '-e', 'inject=rename,renameat,renameat2:signal=SIGSTOP', '--'],
  });
  await waitFor('the agent connected', () => connected(d), 90_000);
  t.equal((await admin(['upgrade', 'agents', '--version', NEXT, '--target', 'wave=swapkill'])).exitCode, 0);
  const stateFile = path.join(d.data, 'upgrade', 'state.json');
  const pid = await waitFor('the agent to stop mid-swap', () => {
    const p = d.sup?.agentPid();
    if (!p || !fs.existsSync(stateFile) || (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { phase: string }).phase !== 'Swapping') return undefined;
    const st = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
    return /\) [tT] /.test(st) ? p : undefined;
  }, 240_000);
  t.ok(fs.existsSync(`${d.exe}.previous`), 'previous kept before the new one went in');
  process.kill(pid, 'SIGKILL');
  const row = await waitFor('the agent to report the recovery', async () => {
    const x = await rowOf(d.agentId);
    return x?.state === 'RolledBack' ? x : undefined;
  }, 120_000);
  t.match(row.message, /interrupted/);
  t.ok(fs.readFileSync(d.exe).equals(installedBytes), 'the previous packaged executable is back in place');
  t.notOk(fs.existsSync(`${d.exe}.new`), 'the staged file is gone');
  await waitFor('the recovered agent to connect again', () => connected(d), 60_000);
});
