// Issue 15, decision 0920: `drover shell` from the packaged single executables, not the checkout.
// The amd64 executable runs the server, the CLI and one node agent; the arm64 executable runs a
// second node agent under qemu-aarch64-static. Both give a real PTY through util-linux `script`
// (the host's, which qemu-user runs natively), so nothing in the PTY path is architecture-specific
// or missing from the bundle. (In a debootstrap root the arm64 agent could not exec the root's own
// arm64 `script` without a binfmt_misc registration, which would touch the host: not done here.)
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { REPO_ROOT } from '../../packaging/testing/dist.ts';
import { startServer } from '../../packaging/testing/server.ts';
import { droverCacheDir } from '../../packaging/node-runtime.ts';
import { waitFor } from './agent-helpers.ts';

fs.mkdirSync(path.join(droverCacheDir(), 'test'), { recursive: true, mode: 0o700 });
// Built from this checkout into a directory of its own: the shared test-dist may be rebuilt from
// another checkout by a concurrent test run between our build and our use.
const distDir = path.join(droverCacheDir(), `test-dist-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12)}`);
const build = spawnSync('flock', [`${distDir}.lock`, process.execPath, path.join(REPO_ROOT, 'packaging', 'build.ts'), '--out', distDir, '--no-airgap'], { encoding: 'utf8', timeout: 15 * 60_000 });
if (build.status !== 0) throw new Error(`packaging/build.ts failed:\n${build.stdout}\n${build.stderr}`);
const amd64 = path.join(distDir, 'drover-linux-amd64');
const arm64 = path.join(distDir, 'drover-linux-arm64');
const dir = fs.mkdtempSync(path.join(droverCacheDir(), 'test', 'shell-'));
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', DROVER_CACHE_DIR: path.join(dir, 'cache'), DROVER_LOG_LEVEL: 'warn' };
const server = await startServer(amd64, path.join(dir, 'server'));
const agents: ReturnType<typeof spawn>[] = [];
t.teardown(async () => {
  for (const a of agents) a.kill('SIGTERM');
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const run = (argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env, timeout: 120_000 });

for (const arch of ['amd64', 'arm64'] as const) {
  t.test(`packaged ${arch} node agent: drover shell in a real PTY, exit code propagated`, async (t) => {
    const exe = arch === 'amd64' ? [amd64] : ['qemu-aarch64-static', '-L', '/', arm64];
    const agentDir = path.join(dir, `agent-${arch}`);
    const reg = run([...exe, 'agent', 'register', '--server', server.url, '--token', server.token(), '--name', `node-${arch}`, '--data-dir', agentDir]);
    t.equal(reg.status, 0, reg.stderr);
    const agent = spawn(exe[0]!, [...exe.slice(1), 'agent', 'run', '--roles', 'node', '--data-dir', agentDir], { env, stdio: 'ignore' });
    agents.push(agent);
    const status = await waitFor(`the ${arch} node agent to connect`, () => {
      const r = run([...exe, 'agent', 'status', '--json', '--data-dir', agentDir]);
      const s = r.status === 0 ? (JSON.parse(r.stdout) as { nodeId: string; roles: { name: string; state: string }[] }) : undefined;
      return s?.roles.find((x) => x.name === 'node')?.state === 'connected' ? s : undefined;
    }, 120_000);
    const inner = `stty rows 27 cols 77; exec '${amd64}' shell ${status.nodeId} --data-dir '${server.dataDir}' -- sh -c 'tty; stty size; exit 4'`;
    const pty = spawnSync('script', ['-q', '-e', '-c', inner, '/dev/null'], { encoding: 'utf8', env: { ...env, TERM: 'xterm' }, input: '', timeout: 120_000 });
    t.equal(pty.status, 4, `exit code through the ${arch} agent (${pty.stderr})`);
    t.match(pty.stdout, /\/dev\/pts\/\d+/);
    t.match(pty.stdout, /27 77/);
    const plain = run([amd64, 'shell', status.nodeId, '--data-dir', server.dataDir, '--', 'sh', '-c', 'tty; exit 3']);
    t.equal(plain.status, 3);
    t.equal(plain.stdout, 'not a tty\n');
    agent.kill('SIGTERM');
  });
}
