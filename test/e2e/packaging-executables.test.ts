// The single executables on machines without Node.js (issue 7): built offline by
// `npm run package`, then run inside minimal Debian roots made with debootstrap: amd64 with
// chroot, arm64 under qemu-aarch64-static inside an arm64 root. The arm64 test also opens a real
// agent: register, connect and report status against a real server on the host's loopback, so
// its SQLite addon (extracted from the executable) and its TLS run under qemu too.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import t from 'tap';
import { sha256File } from '../../packaging/artifacts.ts';
import { builtDist } from '../../packaging/testing/dist.ts';
import { inRoot, scratchRoot, type RootArch } from '../../packaging/testing/rootfs.ts';
import { GZIP_BUDGET_BYTES } from '../../packaging/targets.ts';
import { droverCacheDir } from '../../packaging/node-runtime.ts';
import { startServer } from '../../packaging/testing/server.ts';
import { runAgent, waitConnected } from '../../packaging/testing/agent-process.ts';

fs.mkdirSync(path.join(droverCacheDir(), 'test'), { recursive: true, mode: 0o700 });
const dist = builtDist();
t.comment(dist.log.trim());

function installInto(root: string, arch: RootArch): void {
  const dest = path.join(root, 'usr', 'local', 'bin', 'drover');
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(path.join(dist.dir, `drover-linux-${arch}`), dest);
  fs.chmodSync(dest, 0o755);
}

t.test('package: dist/ holds both executables, checksums that match, and air-gap tarballs', async (t) => {
  const sums = fs.readFileSync(path.join(dist.dir, 'sha256sums'), 'utf8');
  for (const name of ['drover-linux-amd64', 'drover-linux-arm64', 'drover-airgap-linux-amd64.tar.gz', 'drover-airgap-linux-arm64.tar.gz']) {
    t.match(sums, `${sha256File(path.join(dist.dir, name))}  ${name}\n`, name);
  }
  const sizes = JSON.parse(fs.readFileSync(path.join(dist.dir, 'sizes.json'), 'utf8')) as { artifact: string; rawBytes: number; gzipBytes: number }[];
  t.equal(sizes.length, 2);
  for (const s of sizes) t.ok(s.gzipBytes <= GZIP_BUDGET_BYTES, `${s.artifact}: ${s.gzipBytes} bytes gzipped is within 45 MiB`);
});

for (const arch of ['amd64', 'arm64'] as const) {
  t.test(`${arch} executable in a Debian root without Node.js: version --json reports ${arch}`, async (t) => {
    const root = scratchRoot(arch);
    t.teardown(root.cleanup);
    t.notOk(fs.existsSync(path.join(root.dir, 'usr', 'bin', 'node')), 'no node in the root');
    installInto(root.dir, arch);
    const started = performance.now();
    const res = inRoot(root.dir, arch, ['/usr/local/bin/drover', 'version', '--json']);
    t.comment(`${arch}: first drover version ${Math.round(performance.now() - started)} ms${arch === 'arm64' ? ' under qemu' : ''}`);
    t.equal(res.status, 0, res.stderr);
    const info = JSON.parse(res.stdout) as { arch: string; runtime: string; version: string; protocols: string[] };
    t.equal(info.arch, arch);
    t.equal(info.runtime, 'node v24.21.0');
    t.ok(info.protocols.length > 0);
    t.equal(res.stderr, '', 'no experimental-SEA warning');
  });
}

// One server (the amd64 executable on the host's loopback) for both architectures.
const serverDir = fs.mkdtempSync(path.join(droverCacheDir(), 'test', 'server-'));
const server = await startServer(path.join(dist.dir, 'drover-linux-amd64'), path.join(serverDir, 'data'));
t.teardown(async () => {
  await server.stop();
  fs.rmSync(serverDir, { recursive: true, force: true });
});

for (const arch of ['amd64', 'arm64'] as const) {
  t.test(`${arch} executable in a Debian root: agent register, run and status --json against a real server`, async (t) => {
    const root = scratchRoot(arch);
    t.teardown(root.cleanup);
    installInto(root.dir, arch);
    const none = inRoot(root.dir, arch, ['/usr/local/bin/drover', 'agent', 'status', '--json']);
    t.equal(none.status, 1, 'before registering: exit 1');
    t.match(none.stderr, /NOT_REGISTERED/);

    const reg = inRoot(root.dir, arch, ['/usr/local/bin/drover', 'agent', 'register', '--server', server.url, '--token', server.token(), '--labels', `arch=${arch}`]);
    t.equal(reg.status, 0, reg.stderr);
    const addons = fs.readdirSync(path.join(root.dir, 'var', 'cache', 'drover', 'native'));
    t.match(addons, [/^better_sqlite3-[0-9a-f]{64}\.node$/], 'SQLite addon extracted under /var/cache/drover, named by its hash');

    const agent = runAgent(root.dir, arch, 'cluster');
    t.teardown(() => agent.stop());
    const status = await waitConnected(root.dir, arch, 'cluster');
    t.equal(status?.roles.find((r) => r.name === 'cluster')?.state, 'connected', `${JSON.stringify(status)}\nagent output:\n${agent.output()}`);
    t.match(status?.clusterId, /\S/);
    t.equal(status?.server, server.url);
    t.comment(`${arch}: idle RSS of a connected cluster agent ${agent.rssKiB()} KiB${arch === 'arm64' ? ' (qemu process, emulator included)' : ''}`);
  });
}
