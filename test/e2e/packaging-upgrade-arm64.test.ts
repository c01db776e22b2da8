// Agent self-upgrade with the real packaged arm64 executable under qemu-aarch64-static (issue 16):
// as packaging-upgrade.test.ts, once for the other CPU. The server picks the arm64 artifact from
// the agent's facts; the agent verifies it with the key inside the arm64 executable.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtDist, REPO_ROOT } from '../../packaging/testing/dist.ts';
import { droverCacheDir } from '../../packaging/node-runtime.ts';
import { createToken, drover, startServer, waitFor, type ServerProc } from './agent-helpers.ts';
import { Supervisor } from './upgrade-helpers.ts';
import { buildInfo } from '../../cli/build-info.ts';

/** This tree's release (package.json), which the packaged "current" executable reports. */
const CURRENT = buildInfo().version;

const NEXT = '0.1.1-next';
const QEMU = ['qemu-aarch64-static', '-L', '/'];

if (spawnSync('qemu-aarch64-static', ['--version']).status !== 0) {
  t.plan(0, 'qemu-aarch64-static is not installed (.ci/apt-packages.txt has it)');
} else {
  const built = (() => {
    const dir = path.join(droverCacheDir(), 'test-dist-next-arm64');
    fs.mkdirSync(dir, { recursive: true });
    const res = spawnSync('flock', [path.join(droverCacheDir(), 'test-dist-next-arm64.lock'), process.execPath, path.join(REPO_ROOT, 'packaging', 'build.ts'), '--out', dir, '--arch', 'arm64', '--no-airgap', '--version-override', NEXT], {
      encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60 * 1000,
    });
    if (res.status !== 0) throw new Error(`npm run package --arch arm64 --version-override failed:\n${res.stdout}\n${res.stderr}`);
    return dir;
  })();
  const current = builtDist().dir;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-pkg-upgrade-arm64-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const run = (exe: string, args: string[]) => spawnSync(QEMU[0] ?? '', [...QEMU.slice(1), exe, ...args], { encoding: 'utf8', timeout: 120_000 });
  const versionOf = (exe: string) => (JSON.parse(run(exe, ['version', '--json']).stdout) as { version: string; arch: string });

  let server: ServerProc;
  let sup: Supervisor | undefined;
  t.before(async () => {
    server = await startServer(path.join(tmp, 'server'), 0, { DROVER_UPGRADE_SYNC_MS: '250', DROVER_LOG_LEVEL: 'info' });
  });
  t.teardown(async () => {
    await sup?.stop();
    await server?.proc.stop();
  });

  t.test('packaged arm64 under qemu: previous → next driven by the server', async (t) => {
    const exe = path.join(tmp, 'dev', 'bin', 'drover');
    fs.mkdirSync(path.dirname(exe), { recursive: true });
    fs.copyFileSync(path.join(current, 'drover-linux-arm64'), exe);
    fs.chmodSync(exe, 0o755);
    t.same(versionOf(exe), { ...versionOf(exe), version: CURRENT, arch: 'arm64' });
    const imp = await drover(['release', 'import', built, '--data-dir', server.dataDir]);
    t.equal(imp.exitCode, 0, imp.stderr);
    t.match(imp.stdout, /imported 0\.1\.1-next drover-linux-arm64/);
    const data = path.join(tmp, 'dev', 'data');
    const token = await createToken(server.dataDir, ['--labels', 'cpu=arm64']);
    const reg = run(exe, ['agent', 'register', '--server', server.url, '--token', token, '--name', 'arm', '--data-dir', data]);
    t.equal(reg.status, 0, reg.stderr);
    const agentId = /registered agent (\S+):/.exec(reg.stdout)?.[1] ?? '';
    sup = new Supervisor(exe, data, { DROVER_LOG_LEVEL: 'info' }, ['--roles', 'cluster'], QEMU);
    t.equal((await drover(['upgrade', 'agents', '--version', NEXT, '--target', 'cpu=arm64', '--data-dir', server.dataDir])).exitCode, 0);
    await waitFor('the arm64 agent upgraded', async () => {
      const s = JSON.parse((await drover(['upgrade', 'status', '--json', '--data-dir', server.dataDir])).stdout) as { agents: { id: string; state: string }[] };
      return s.agents.find((a) => a.id === agentId)?.state === 'Succeeded';
    }, 600_000);
    t.equal(versionOf(exe).version, NEXT, 'the arm64 executable in place is the new release');
    t.notOk(fs.existsSync(`${exe}.previous`));
  });
}
