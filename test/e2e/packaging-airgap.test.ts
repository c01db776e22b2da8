// Air-gapped sites (issue 7; ARCHITECTURE.md §5): the drover-airgap-linux-<arch>.tar.gz installs
// with no network at all (inside `unshare -n`, in a Debian root without Node.js), refuses an
// altered executable, and the installer's root prefix / bin-dir / skip-download switches work.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { droverCacheDir } from '../../packaging/node-runtime.ts';
import { builtDist, REPO_ROOT } from '../../packaging/testing/dist.ts';
import { startDownloadServer } from '../../packaging/testing/download-server.ts';
import { inRoot, scratchRoot } from '../../packaging/testing/rootfs.ts';
import { diffSnapshots, snapshot } from '../../packaging/testing/snapshot.ts';

fs.mkdirSync(path.join(droverCacheDir(), 'test'), { recursive: true, mode: 0o700 });
const dist = builtDist();
const tarball = path.join(dist.dir, 'drover-airgap-linux-amd64.tar.gz');
const top = 'drover-airgap-linux-amd64';

t.test('air gap: the tarball holds the executable, install.sh, the units, the signed sha256sums, VERSION and a README', async (t) => {
  const res = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
  const names = res.stdout.trim().split('\n').sort();
  t.same(names, [
    `${top}/`,
    `${top}/README.md`,
    `${top}/VERSION`,
    `${top}/drover-linux-amd64`,
    `${top}/install.sh`,
    `${top}/sha256sums`,
    `${top}/sha256sums.sig`,
    `${top}/systemd/`,
    `${top}/systemd/drover-agent.service`,
    `${top}/systemd/drover-cluster-agent.service`,
    `${top}/systemd/drover-fleet-agent.service`,
    `${top}/systemd/drover-node-agent.service`,
    `${top}/systemd/drover-server.service`,
  ]);
});

t.test('air gap: INSTALL_DROVER_ARTIFACT_PATH installs inside unshare -n, where the network is unreachable', async (t) => {
  const root = scratchRoot('amd64');
  t.teardown(root.cleanup);
  fs.copyFileSync(tarball, path.join(root.dir, 'root', path.basename(tarball)));
  // A server on the host's loopback: reachable from the chroot normally, not from inside unshare -n.
  const probe = await startDownloadServer(dist.dir);
  t.teardown(() => probe.close());
  t.equal(inRoot(root.dir, 'amd64', ['curl', '-sf', '-o', '/dev/null', `${probe.url}/install.sh`]).status, 0, 'reachable with networking');
  const script = [
    `if curl -sf -o /dev/null ${probe.url}/install.sh; then echo network-reachable; exit 9; fi`,
    `cd /root && tar -xzf ${path.basename(tarball)} && cd ${top}`,
    'sha256sum -c --quiet sha256sums',
    'INSTALL_DROVER_ARTIFACT_PATH=$PWD INSTALL_DROVER_SKIP_REGISTER=true sh install.sh agent --server https://drover.example.com:9443',
  ].join('\n');
  const res = inRoot(root.dir, 'amd64', ['sh', '-ec', script], {}, true);
  t.equal(res.status, 0, res.stdout + res.stderr);
  t.match(res.stderr, /verified drover-linux-amd64 sha256/);
  t.ok(fs.existsSync(path.join(root.dir, 'usr/local/bin/drover')));
  t.equal(inRoot(root.dir, 'amd64', ['systemctl', 'is-enabled', 'drover-agent.service']).stdout.trim(), 'enabled', 'all roles in one unit by default');
  const version = inRoot(root.dir, 'amd64', ['drover', 'version', '--json'], {}, true);
  t.equal((JSON.parse(version.stdout) as { arch: string }).arch, 'amd64');
});

t.test('air gap: an executable altered after packaging is refused and nothing is installed', async (t) => {
  const root = scratchRoot('amd64');
  t.teardown(root.cleanup);
  spawnSync('tar', ['-xzf', tarball, '-C', path.join(root.dir, 'root')]);
  const before = snapshot(root.dir);
  fs.appendFileSync(path.join(root.dir, 'root', top, 'drover-linux-amd64'), 'x');
  const res = inRoot(root.dir, 'amd64', ['sh', '-c', `cd /root/${top} && INSTALL_DROVER_ARTIFACT_PATH=$PWD sh install.sh agent --server https://a:1`], {}, true);
  t.not(res.status, 0);
  t.match(res.stderr, /sha256 mismatch/);
  t.same(diffSnapshots(before, snapshot(root.dir)), { added: [], removed: [] });
});

t.test('install.sh: INSTALL_DROVER_ROOT and INSTALL_DROVER_BIN_DIR place everything under a prefix; the uninstaller clears it', async (t) => {
  const prefix = fs.mkdtempSync(path.join(droverCacheDir(), 'test', 'prefix-'));
  t.teardown(() => fs.rmSync(prefix, { recursive: true, force: true }));
  const extracted = fs.mkdtempSync(path.join(droverCacheDir(), 'test', 'airgap-'));
  t.teardown(() => fs.rmSync(extracted, { recursive: true, force: true }));
  spawnSync('tar', ['-xzf', tarball, '-C', extracted]);
  const env = {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    INSTALL_DROVER_ROOT: prefix,
    INSTALL_DROVER_BIN_DIR: '/opt/drover/bin',
    INSTALL_DROVER_ARTIFACT_PATH: path.join(extracted, top),
  };
  const sh = (args: string[], extra: Record<string, string> = {}) =>
    spawnSync('sh', [path.join(REPO_ROOT, 'packaging', 'install.sh'), ...args], { encoding: 'utf8', env: { ...env, ...extra } });
  const res = sh(['agent', '--server', 'https://drover.example.com:9443', '--roles', 'cluster,fleet'], { INSTALL_DROVER_UNITS: 'per-role' });
  t.equal(res.status, 0, res.stderr);
  t.ok(fs.existsSync(path.join(prefix, 'opt/drover/bin/drover')));
  t.notOk(fs.existsSync(path.join(prefix, 'etc/systemd/system/drover-node-agent.service')), 'only the chosen roles');
  t.match(fs.readFileSync(path.join(prefix, 'etc/systemd/system/drover-cluster-agent.service'), 'utf8'), /^ExecStart=\/opt\/drover\/bin\/drover agent run --roles cluster /m);
  t.ok(fs.lstatSync(path.join(prefix, 'etc/systemd/system/multi-user.target.wants/drover-cluster-agent.service')).isSymbolicLink(), 'enabled with systemctl --root');
  t.match(res.stderr, /not starting the units/);

  const again = sh(['agent', '--server', 'https://drover.example.com:9443', '--roles', 'cluster,fleet'], { INSTALL_DROVER_SKIP_DOWNLOAD: 'true' });
  t.equal(again.status, 0, again.stderr);
  t.match(again.stderr, /skipping download/);
  t.ok(fs.existsSync(path.join(prefix, 'etc/systemd/system/drover-cluster-agent.service')), 'a re-run keeps the per-role layout it recorded');
  t.notOk(fs.existsSync(path.join(prefix, 'etc/systemd/system/drover-agent.service')));

  const bad = sh(['agent', '--server', 'https://drover.example.com:9443'], { INSTALL_DROVER_SKIP_DOWNLOAD: 'true', INSTALL_DROVER_UNITS: 'two' });
  t.not(bad.status, 0);
  t.match(bad.stderr, /INSTALL_DROVER_UNITS must be 'one' or 'per-role'/);

  const un = spawnSync(path.join(prefix, 'opt/drover/bin/drover-uninstall.sh'), ['--remove-state'], { encoding: 'utf8', env });
  t.equal(un.status, 0, un.stderr);
  const left = [...snapshot(prefix)].filter((p) => !fs.statSync(path.join(prefix, p)).isDirectory());
  t.same(left, [], 'no file left under the prefix');
});
