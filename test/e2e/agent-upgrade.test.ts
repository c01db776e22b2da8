// Agent self-upgrade end to end from this checkout (issue 16): a real server and real agents under a
// stand-in for systemd (upgrade-helpers.ts Supervisor), releases signed with a test key. The
// "executables" are small scripts that run this checkout's drover, so each release has its own
// SHA-256 and needs no build. The failure modes (exits at start, never connects, hangs, kill -9
// mid-swap), the offline agent and the air gap run on the real packaged executables in
// test/e2e/packaging-upgrade.test.ts and packaging-upgrade-failures.test.ts; here: import
// refusals, a canary-first rollout to two agents, and per-role units (decision 1132).
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

/** A device laid out with one unit per role (INSTALL_DROVER_UNITS=per-role): one executable, one data dir. */
async function perRoleDevice(label: string, extraEnv: Record<string, string> = {}): Promise<{ dir: string; exe: string; agentId: string; sups: Supervisor[] }> {
  const d = await device(label, {}, false);
  const roleSups = ['cluster', 'node'].map((role) => {
    const s = new Supervisor(d.exe, d.dir, env({ DROVER_UPGRADE_EXE: d.exe, ...extraEnv }), ['--roles', role]);
    sups.push(s);
    return s;
  });
  return { dir: d.dir, exe: d.exe, agentId: d.agentId, sups: roleSups };
}

const roleStates = async (dir: string): Promise<Record<string, string>> => {
  const st = await drover(['agent', 'status', '--json', '--data-dir', dir], env());
  if (st.exitCode !== 0) return {};
  return Object.fromEntries((JSON.parse(st.stdout) as { roles: { name: string; state: string }[] }).roles.map((r) => [r.name, r.state]));
};
const marks = (dir: string): { pid: number; roles: string[]; image: string }[] => {
  const p = path.join(dir, 'upgrade', 'procs');
  return fs.readdirSync(p).filter((n) => n.endsWith('.json')).map((n) => JSON.parse(fs.readFileSync(path.join(p, n), 'utf8')) as { pid: number; roles: string[]; image: string }).filter((m) => {
    try {
      process.kill(m.pid, 0);
      return true;
    } catch {
      return false;
    }
  });
};
const imageOf = (f: string): string => {
  const st = fs.statSync(f);
  return `${st.dev}:${st.ino}`;
};

t.test('per-role units: every role process of the device moves to the new version', async (t) => {
  const NEW = scriptExe('0.8.0');
  t.equal((await admin(['release', 'import', makeRelease(path.join(tmp, 'rel-080'), '0.8.0', NEW, key)])).exitCode, 0);
  const d = await perRoleDevice('wave=roles');
  await waitFor('both role processes connected', async () => {
    const r = await roleStates(d.dir);
    return r['cluster'] === 'connected' && r['node'] === 'connected';
  }, 60_000);
  t.equal((await admin(['upgrade', 'agents', '--version', '0.8.0', '--target', 'wave=roles'])).exitCode, 0);
  await waitFor('the device upgraded', async () => agentRow(await status(), d.agentId)?.state === 'Succeeded', 120_000);
  t.equal(fs.readFileSync(d.exe, 'utf8'), NEW);
  t.notOk(fs.existsSync(`${d.exe}.previous`), 'committed only once every role connected on the new executable');
  for (const s of d.sups) t.ok(s.starts >= 2, 'each role unit restarted');
  const image = imageOf(d.exe);
  const live = await waitFor('one live process per role, both on the new executable', () => {
    const m = marks(d.dir);
    return m.length === 2 && m.every((x) => x.image === image) ? m : undefined;
  }, 30_000);
  t.same(live.flatMap((m) => m.roles).sort(), ['cluster', 'node']);
});

t.test('per-role units: a new version that does not connect is rolled back on every role process', async (t) => {
  const rel = makeRelease(path.join(tmp, 'rel-090'), '0.9.0', scriptExe('0.9.0 no connect', 'export HTTPS_PROXY=http://127.0.0.1:9'), key);
  t.equal((await admin(['release', 'import', rel])).exitCode, 0);
  // The deadline leaves room for both units to restart first: a wrapper script is read by sh before
  // the process can see which file it runs (the packaged executable uses /proc/self/exe, exact), so
  // a role restarting across the rollback itself could believe it runs the previous one.
  const d = await perRoleDevice('wave=roles-back', { DROVER_UPGRADE_HEALTH_MS: '30000' });
  await waitFor('both role processes connected', async () => {
    const r = await roleStates(d.dir);
    return r['cluster'] === 'connected' && r['node'] === 'connected';
  }, 60_000);
  const old = imageOf(d.exe);
  t.equal((await admin(['upgrade', 'agents', '--version', '0.9.0', '--target', 'wave=roles-back'])).exitCode, 0);
  const row = await waitFor('the device rolled back', async () => {
    const x = agentRow(await status(), d.agentId);
    return x?.state === 'RolledBack' ? x : undefined;
  }, 120_000);
  t.match(row.message, /did not connect within the health deadline/);
  t.equal(fs.readFileSync(d.exe, 'utf8'), OLD);
  t.equal(imageOf(d.exe), old, 'the previous executable itself is back');
  await waitFor('both roles connected again, both on the previous executable', async () => {
    const r = await roleStates(d.dir);
    const m = marks(d.dir);
    return r['cluster'] === 'connected' && r['node'] === 'connected' && m.length === 2 && m.every((x) => x.image === old);
  }, 60_000);
});

t.test('release delete: a version the fleet has moved past goes; the one a running upgrade names stays', async (t) => {
  const r = await admin(['release', 'delete', '0.2.0']);
  t.equal(r.exitCode, 0, r.stderr);
  t.equal(r.stdout.trim(), 'deleted release 0.2.0 (1 executable)');
  t.notOk((JSON.parse((await admin(['release', 'list', '--json'])).stdout) as { version: string }[]).some((x) => x.version === '0.2.0'), 'no longer listed');
  t.notOk(fs.existsSync(path.join(server.dataDir, 'releases', '0.2.0')), 'its files are gone');
  const again = await admin(['release', 'delete', '0.2.0']);
  t.equal(again.exitCode, 1);
  t.match(again.stderr, /RELEASE_NOT_FOUND: no release 0\.2\.0 is imported/);
  const bad = await admin(['release', 'delete', '../0.2.0']);
  t.equal(bad.exitCode, 1);
  t.match(bad.stderr, /RELEASE_INVALID/);
  // An upgrade to 0.9.0 running (its agents need a health deadline before anything is decided).
  t.equal((await admin(['upgrade', 'agents', '--version', '0.9.0', '--target', 'wave=one'])).exitCode, 0);
  t.match((await status()).state, /^(Running|Halted)$/);
  const inUse = await admin(['release', 'delete', '0.9.0']);
  t.equal(inUse.exitCode, 1);
  t.match(inUse.stderr, /RELEASE_IN_USE: the agent upgrade to 0\.9\.0 is (Running|Halted)/);
  t.ok(fs.existsSync(path.join(server.dataDir, 'releases', '0.9.0', 'drover-linux-amd64')), 'nothing removed by the refusal');
});
