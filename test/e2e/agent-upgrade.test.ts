// Agent self-upgrade end to end from this checkout (issue 16): a real server and real agents under a
// stand-in for systemd (upgrade-helpers.ts Supervisor), releases signed with a test key. The
// "executables" are small scripts that run this checkout's drover, so each release has its own
// SHA-256 and a broken one can be made; test/e2e/packaging-upgrade.test.ts does the same with the
// packaged executables.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { createToken, drover, startServer, waitFor, type ServerProc } from './agent-helpers.ts';
import { makeRelease, scriptExe, Supervisor, testKey, type TestKey } from './upgrade-helpers.ts';

interface Status {
  state: string;
  message: string;
  summary: Record<string, number>;
  agents: { id: string; state: string; canary: boolean; message: string; bytes: number; total: number }[];
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-upgrade-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const key: TestKey = testKey(tmp);
const OLD = scriptExe('0.1.0 as installed');
const env = (extra: Record<string, string> = {}) => ({ DROVER_RELEASE_PUBLIC_KEY: key.publicFile, DROVER_LOG_LEVEL: 'info', ...extra });

let server: ServerProc;
const sups: Supervisor[] = [];
t.before(async () => {
  server = await startServer(path.join(tmp, 'server'), 0, env({ DROVER_UPGRADE_SYNC_MS: '250' }));
});
t.teardown(async () => {
  for (const s of sups) await s.stop();
  await server?.proc.stop();
});

const admin = (args: string[]) => drover([...args, '--data-dir', server.dataDir], env());
const status = async (): Promise<Status> => {
  const r = await admin(['upgrade', 'status', '--json']);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Status;
};

let n = 0;
/** A registered agent installed as `exe` (the old release), run under the supervisor. */
async function device(labels: string, extraEnv: Record<string, string> = {}, start = true): Promise<{ dir: string; exe: string; agentId: string; sup?: Supervisor; start(): Supervisor }> {
  n += 1;
  const dir = path.join(tmp, `dev${n}`);
  const exe = path.join(dir, 'bin', 'drover');
  fs.mkdirSync(path.dirname(exe), { recursive: true });
  fs.writeFileSync(exe, OLD, { mode: 0o755 });
  const data = path.join(dir, 'data');
  const token = await createToken(server.dataDir, ['--labels', labels]);
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', `dev${n}`, '--data-dir', data], env());
  if (reg.exitCode !== 0) throw new Error(reg.stderr);
  const agentId = /registered agent (\S+):/.exec(reg.stdout)?.[1] ?? '';
  const run = () => {
    const s = new Supervisor(exe, data, env({ DROVER_UPGRADE_EXE: exe, ...extraEnv }));
    sups.push(s);
    return s;
  };
  const d = { dir: data, exe, agentId, start: run, ...(start ? { sup: run() } : {}) };
  return d;
}

const agentRow = (s: Status, id: string) => s.agents.find((a) => a.id === id);

t.test('releases: a bad signature or a bad checksum is refused with a clear error and nothing is stored', async (t) => {
  const other = generateKeyPairSync('ed25519').privateKey;
  const badSig = makeRelease(path.join(tmp, 'rel-badsig'), '0.9.0', scriptExe('0.9.0'), key, { signWith: other });
  let r = await admin(['release', 'import', badSig]);
  t.equal(r.exitCode, 1, 'bad signature: exit 1');
  t.match(r.stderr, /SIGNATURE_INVALID/);
  const badSum = makeRelease(path.join(tmp, 'rel-badsum'), '0.9.1', scriptExe('0.9.1'), key, { tamperAfterSigning: true });
  r = await admin(['release', 'import', badSum]);
  t.equal(r.exitCode, 1, 'bad checksum: exit 1');
  t.match(r.stderr, /CHECKSUM_MISMATCH/);
  r = await admin(['release', 'list', '--json']);
  t.same(JSON.parse(r.stdout), [], 'nothing stored');
});

t.test('upgrade: previous → new driven by the server, canary first, every agent upgraded', async (t) => {
  const NEW = scriptExe('0.2.0');
  const rel = makeRelease(path.join(tmp, 'rel-020'), '0.2.0', NEW, key);
  const imp = await admin(['release', 'import', rel]);
  t.equal(imp.exitCode, 0, imp.stderr);
  t.match(imp.stdout, /imported 0\.2\.0 drover-linux-amd64/);
  const list = JSON.parse((await admin(['release', 'list', '--json'])).stdout) as { version: string; arch: string }[];
  t.same(list.map((r) => [r.version, r.arch]), [['0.2.0', 'amd64']]);

  const a = await device('wave=one');
  const b = await device('wave=one');
  const started = await admin(['upgrade', 'agents', '--version', '0.2.0', '--target', 'wave=one', '--canary', '1', '--max-unavailable', '2']);
  t.equal(started.exitCode, 0, started.stderr);
  t.match(started.stdout, /upgrading 2 agents to 0\.2\.0 \(1 canary first\)/);
  const done = await waitFor('both agents upgraded', async () => {
    const s = await status();
    return s.state === 'Done' ? s : undefined;
  }, 120_000);
  t.same(done.agents.map((x) => x.state), ['Succeeded', 'Succeeded']);
  t.equal(done.agents.filter((x) => x.canary).length, 1, 'one canary');
  for (const d of [a, b]) {
    t.equal(fs.readFileSync(d.exe, 'utf8'), NEW, 'the new executable is in place');
    t.notOk(fs.existsSync(`${d.exe}.previous`), 'previous removed once healthy');
  }
  const human = await admin(['upgrade', 'status']);
  t.match(human.stdout, /agents to 0\.2\.0 \(Done\)/);
});

t.test('upgrade: a canary that exits at start is rolled back by itself and stops the rollout', async (t) => {
  const rel = makeRelease(path.join(tmp, 'rel-broken'), '0.3.0', scriptExe('0.3.0 broken', 'echo "broken build" >&2; exit 3'), key);
  t.equal((await admin(['release', 'import', rel])).exitCode, 0);
  const c = await device('wave=two');
  const d = await device('wave=two');
  const r = await admin(['upgrade', 'agents', '--version', '0.3.0', '--target', 'wave=two', '--canary', '1', '--max-unavailable', '2']);
  t.equal(r.exitCode, 0, r.stderr);
  const halted = await waitFor('the rollout to stop', async () => {
    const s = await status();
    return s.state === 'Halted' ? s : undefined;
  }, 120_000);
  const canary = halted.agents.find((x) => x.canary);
  t.equal(canary?.state, 'RolledBack', 'the canary rolled back');
  t.match(canary?.message, /exited before it connected/);
  t.same(halted.agents.filter((x) => !x.canary).map((x) => x.state), ['Pending'], 'the other agent was never touched');
  t.match(halted.message, /canary failed/);
  const canaryDev = [c, d].find((x) => x.agentId === canary?.id);
  t.equal(fs.readFileSync(canaryDev?.exe ?? '', 'utf8'), OLD, 'the previous executable is back');
  await waitFor('the rolled-back canary to connect again', async () => {
    const st = await drover(['agent', 'status', '--json', '--data-dir', canaryDev?.dir ?? ''], env());
    return st.exitCode === 0 && (JSON.parse(st.stdout) as { roles: { name: string; state: string }[] }).roles.find((x) => x.name === 'cluster')?.state === 'connected';
  }, 60_000);
});

t.test('upgrade: a new executable that starts but never connects is rolled back at the health deadline', async (t) => {
  // The new build's tunnel goes through a proxy that is not there: it runs, but never connects.
  const rel = makeRelease(path.join(tmp, 'rel-noconnect'), '0.4.0', scriptExe('0.4.0 no connect', 'export HTTPS_PROXY=http://127.0.0.1:9'), key);
  t.equal((await admin(['release', 'import', rel])).exitCode, 0);
  const e = await device('wave=three', { DROVER_UPGRADE_HEALTH_MS: '6000' });
  t.equal((await admin(['upgrade', 'agents', '--version', '0.4.0', '--target', 'wave=three'])).exitCode, 0);
  const s = await waitFor('the agent to roll back', async () => {
    const x = agentRow(await status(), e.agentId);
    return x?.state === 'RolledBack' ? x : undefined;
  }, 120_000);
  t.match(s.message, /did not connect within the health deadline/);
  t.equal(fs.readFileSync(e.exe, 'utf8'), OLD, 'the previous executable is back');
});

t.test('upgrade: kill -9 during the swap recovers to a working agent', async (t) => {
  const rel = makeRelease(path.join(tmp, 'rel-050'), '0.5.0', scriptExe('0.5.0'), key);
  t.equal((await admin(['release', 'import', rel])).exitCode, 0);
  const f = await device('wave=four', { DROVER_UPGRADE_TEST_STOP_AT: 'new-in-place' });
  t.equal((await admin(['upgrade', 'agents', '--version', '0.5.0', '--target', 'wave=four'])).exitCode, 0);
  const stateFile = path.join(f.dir, 'upgrade', 'state.json');
  await waitFor('the agent to stop mid-swap', () => fs.existsSync(stateFile) && (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { phase: string }).phase === 'Swapping', 120_000);
  t.ok(fs.existsSync(`${f.exe}.previous`), 'previous kept before the new one went in');
  // Power cut: the process dies with the swap half done.
  f.sup?.child?.kill('SIGKILL');
  const x = await waitFor('the agent to report the recovery', async () => {
    const row = agentRow(await status(), f.agentId);
    return row?.state === 'RolledBack' ? row : undefined;
  }, 120_000);
  t.match(x.message, /interrupted/);
  t.equal(fs.readFileSync(f.exe, 'utf8'), OLD, 'the previous executable is back in place');
});

t.test('upgrade: an agent offline during the rollout is upgraded when it returns', async (t) => {
  const NEW = scriptExe('0.6.0');
  t.equal((await admin(['release', 'import', makeRelease(path.join(tmp, 'rel-060'), '0.6.0', NEW, key)])).exitCode, 0);
  const g = await device('wave=five', {}, false);
  t.equal((await admin(['upgrade', 'agents', '--version', '0.6.0', '--target', 'wave=five'])).exitCode, 0);
  const off = agentRow(await status(), g.agentId);
  t.equal(off?.state, 'Offline', 'shown as Offline (deferred)');
  g.start();
  await waitFor('the returning agent to be upgraded', async () => agentRow(await status(), g.agentId)?.state === 'Succeeded', 120_000);
  t.equal(fs.readFileSync(g.exe, 'utf8'), NEW);
});

t.test('air gap: drover agent upgrade --from verifies, refuses tampering, and upgrades in place', async (t) => {
  const h = await device('wave=six', {}, false);
  const hEnv = env({ DROVER_UPGRADE_EXE: h.exe });
  const bad = makeRelease(path.join(tmp, 'rel-airgap-bad'), '0.7.0', scriptExe('0.7.0'), key, { tamperAfterSigning: true });
  let r = await drover(['agent', 'upgrade', '--from', bad, '--data-dir', h.dir], hEnv);
  t.equal(r.exitCode, 1);
  t.match(r.stderr, /CHECKSUM_MISMATCH/);
  t.equal(fs.readFileSync(h.exe, 'utf8'), OLD, 'untouched');
  const badSig = makeRelease(path.join(tmp, 'rel-airgap-badsig'), '0.7.0', scriptExe('0.7.0'), key, { signWith: generateKeyPairSync('ed25519').privateKey });
  r = await drover(['agent', 'upgrade', '--from', badSig, '--data-dir', h.dir], hEnv);
  t.equal(r.exitCode, 1);
  t.match(r.stderr, /SIGNATURE_INVALID/);
  t.equal(fs.readFileSync(h.exe, 'utf8'), OLD, 'untouched');
  const NEW = scriptExe('0.7.0');
  const good = makeRelease(path.join(tmp, 'rel-airgap'), '0.7.0', NEW, key);
  r = await drover(['agent', 'upgrade', '--from', good, '--data-dir', h.dir], hEnv);
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, /drover 0\.7\.0 is in place/);
  t.equal(fs.readFileSync(h.exe, 'utf8'), NEW);
  h.start();
  await waitFor('the air-gapped upgrade to commit', () => (JSON.parse(fs.readFileSync(path.join(h.dir, 'upgrade', 'state.json'), 'utf8')) as { phase: string }).phase === 'Succeeded', 60_000);
  t.notOk(fs.existsSync(`${h.exe}.previous`));
});
