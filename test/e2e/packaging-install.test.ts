// install.sh as a new user runs it (issue 7; ARCHITECTURE.md §5): `curl -sfL …/install.sh | sh -s -
// agent --server URL --token T` inside a minimal Debian root (chroot, real curl, real systemctl).
// systemd is not running in a chroot, so the installer enables the units (real symlinks) and says
// it cannot start them; the test then runs the agent with the units' own command line.
// install.sh and the executable come from the real server (the amd64 executable, serving itself)
// on the host's loopback, which is also where the agent registers; mirrors use the same handler.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { droverCacheDir } from '../../packaging/node-runtime.ts';
import { agentStatus, runAgent, waitConnected } from '../../packaging/testing/agent-process.ts';
import { builtDist, REPO_ROOT } from '../../packaging/testing/dist.ts';
import { startDownloadServer } from '../../packaging/testing/download-server.ts';
import { inRoot, scratchRoot } from '../../packaging/testing/rootfs.ts';
import { startServer } from '../../packaging/testing/server.ts';
import { snapshot, diffSnapshots } from '../../packaging/testing/snapshot.ts';

fs.mkdirSync(path.join(droverCacheDir(), 'test'), { recursive: true, mode: 0o700 });
const dist = builtDist();
const work = fs.mkdtempSync(path.join(droverCacheDir(), 'test', 'install-'));
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

const server = await startServer(path.join(dist.dir, 'drover-linux-amd64'), path.join(work, 'server'));
t.teardown(() => server.stop());
const installScript = path.join(REPO_ROOT, 'packaging', 'install.sh');
// The real server serves install.sh (embedded in the executable) and the executable itself, over
// https with its own certificate and /v1/ca, so the installer pins the CA through the join token.
const downloads = { url: server.url };

const mirror = await startDownloadServer(dist.dir, installScript);
t.teardown(() => mirror.close());

// A mirror whose executable was altered after its checksum was published.
const tamperedDir = path.join(work, 'tampered');
fs.mkdirSync(tamperedDir);
const exe = fs.readFileSync(path.join(dist.dir, 'drover-linux-amd64'));
exe[exe.length - 1] = (exe[exe.length - 1] ?? 0) ^ 0xff;
fs.writeFileSync(path.join(tamperedDir, 'drover-linux-amd64'), exe);
fs.copyFileSync(path.join(dist.dir, 'drover-linux-amd64.sha256'), path.join(tamperedDir, 'drover-linux-amd64.sha256'));
const tampered = await startDownloadServer(tamperedDir, installScript);
t.teardown(() => tampered.close());

const root = scratchRoot('amd64');
t.teardown(root.cleanup);
const before = snapshot(root.dir);

/**
 * The documented one-liner, run inside the root. `-k` because the device does not know the
 * server's private CA yet (docs/packaging.md); the executable itself is fetched with the CA that
 * the join token pins, and checked against its sha256.
 */
function curlInstall(from: string, args: string, env: Record<string, string> = {}) {
  const script = `curl -sfLk ${from}/install.sh | sh -s - ${args}`;
  return inRoot(root.dir, 'amd64', ['sh', '-c', script], { INSTALL_DROVER_DOWNLOAD_URL: from, ...env });
}
const exists = (p: string) => fs.existsSync(path.join(root.dir, p));
const units = ['drover-cluster-agent.service', 'drover-node-agent.service', 'drover-fleet-agent.service'];

t.test('install.sh: a tampered download is refused and nothing is installed', async (t) => {
  const res = curlInstall(tampered.url, `agent --server ${server.url} --token ${server.token()}`);
  t.not(res.status, 0);
  t.match(res.stderr, /sha256 mismatch for drover-linux-amd64/);
  t.same(diffSnapshots(before, snapshot(root.dir)), { added: [], removed: [] }, 'the root is unchanged');
});

t.test('install.sh: over https, a server whose CA does not match the join token is refused before any download', async (t) => {
  const token = server.token();
  const wrongCa = token.replace(/^D10([0-9a-f])/, (_, c: string) => `D10${c === '0' ? '1' : '0'}`);
  const res = curlInstall(downloads.url, `agent --server ${server.url} --token ${wrongCa}`);
  t.not(res.status, 0);
  t.match(res.stderr, /does not match the join token/);
  t.notMatch(res.stderr, /downloading/);
  t.same(diffSnapshots(before, snapshot(root.dir)), { added: [], removed: [] }, 'the root is unchanged');
});

let agentId: string | undefined;
// The first install uses the layout every install had before issue 25 (one unit per role): a
// per-role install whose layout record is then removed, as the older installer never wrote it.
t.test('install.sh: curl | sh installs, verifies, writes config, enables units, registers', async (t) => {
  const res = curlInstall(downloads.url, `agent --server ${server.url} --token ${server.token()} --labels site=lab`, { INSTALL_DROVER_UNITS: 'per-role' });
  t.equal(res.status, 0, res.stderr);
  t.match(res.stderr, /verified drover-linux-amd64 sha256 [0-9a-f]{64}/);
  t.match(res.stderr, /downloading https:/, 'over https, with the CA pinned by the token');
  t.match(res.stderr, /systemd is not running here/);
  t.ok(exists('usr/local/bin/drover') && exists('usr/local/bin/drover-uninstall.sh'));
  t.equal(fs.statSync(path.join(root.dir, 'etc/drover/agent.env')).mode & 0o777, 0o600);
  t.match(fs.readFileSync(path.join(root.dir, 'etc/drover/agent.env'), 'utf8'), `DROVER_SERVER=${server.url}\n`);
  t.notMatch(fs.readFileSync(path.join(root.dir, 'etc/drover/agent.env'), 'utf8'), /D10[0-9a-f]{64}/, 'no join token on disk');
  for (const unit of units) {
    t.equal(
      fs.readFileSync(path.join(root.dir, 'etc/systemd/system', unit), 'utf8'),
      fs.readFileSync(path.join(REPO_ROOT, 'systemd', unit), 'utf8'),
      `${unit} installed as shipped`,
    );
    t.equal(inRoot(root.dir, 'amd64', ['systemctl', 'is-enabled', unit]).stdout.trim(), 'enabled');
  }
  t.notOk(exists('etc/systemd/system/drover-agent.service'), 'per-role: no all-roles unit');
  const status = agentStatus(root.dir, 'amd64');
  t.match(status?.clusterId, /\S/);
  agentId = (status as { agentId?: string } | undefined)?.agentId;
  t.ok(agentId);
  const env = path.join(root.dir, 'etc/drover/agent.env');
  t.match(fs.readFileSync(env, 'utf8'), /^#INSTALL_DROVER_UNITS=per-role$/m, 'the layout is recorded for re-runs');
  fs.writeFileSync(env, fs.readFileSync(env, 'utf8').replace(/^#INSTALL_DROVER_UNITS=.*\n/m, ''));
});

t.test('install.sh: the installed fleet unit command connects to the server', async (t) => {
  const unit = fs.readFileSync(path.join(root.dir, 'etc/systemd/system/drover-fleet-agent.service'), 'utf8');
  t.match(unit, /^ExecStart=\/usr\/local\/bin\/drover agent run --roles fleet /m);
  const agent = runAgent(root.dir, 'amd64', 'fleet');
  t.teardown(() => agent.stop());
  const status = await waitConnected(root.dir, 'amd64', 'fleet');
  t.equal(status?.roles.find((r) => r.name === 'fleet')?.state, 'connected', JSON.stringify(status));
});

t.test('install.sh: re-running without a token upgrades in place (CA pinned from the identity) and keeps the identity', async (t) => {
  const res = curlInstall(downloads.url, `agent --server ${server.url}`);
  t.equal(res.status, 0, res.stderr);
  t.match(res.stderr, /already this version/);
  // An older executable that still reads the identity: the installer asks it for the pinned CA.
  const current = path.join(root.dir, 'usr/local/bin/drover');
  fs.renameSync(current, path.join(root.dir, 'usr/local/bin/drover-current'));
  fs.writeFileSync(current, '#!/bin/sh\nexec /usr/local/bin/drover-current "$@"\n', { mode: 0o755 });
  const upgrade = curlInstall(downloads.url, `agent --server ${server.url}`);
  fs.rmSync(path.join(root.dir, 'usr/local/bin/drover-current'));
  t.equal(upgrade.status, 0, upgrade.stderr);
  t.match(upgrade.stderr, /installed \/usr\/local\/bin\/drover/);
  t.match(upgrade.stderr, /already registered; keeping its identity/);
  t.equal((agentStatus(root.dir, 'amd64') as { agentId?: string } | undefined)?.agentId, agentId);
  // The install from before issue 25 moved to the default layout: one unit for all roles.
  t.match(res.stderr, /replaced units: drover-cluster-agent\.service drover-node-agent\.service drover-fleet-agent\.service/);
  t.equal(
    fs.readFileSync(path.join(root.dir, 'etc/systemd/system/drover-agent.service'), 'utf8'),
    fs.readFileSync(path.join(REPO_ROOT, 'systemd/drover-agent.service'), 'utf8'),
    'drover-agent.service installed as shipped',
  );
  t.equal(inRoot(root.dir, 'amd64', ['systemctl', 'is-enabled', 'drover-agent.service']).stdout.trim(), 'enabled');
  for (const unit of units) {
    t.notOk(exists(`etc/systemd/system/${unit}`), `${unit} removed`);
    t.notOk(exists(`etc/systemd/system/multi-user.target.wants/${unit}`), `${unit} disabled`);
  }
  const env = fs.readFileSync(path.join(root.dir, 'etc/drover/agent.env'), 'utf8');
  t.match(env, /^#INSTALL_DROVER_UNITS=one$/m);
  t.match(env, /^DROVER_AGENT_ROLES=cluster,node,fleet$/m);
});

t.test('install.sh: the all-roles unit command, after the upgrade, connects every role with the kept identity', async (t) => {
  const unit = fs.readFileSync(path.join(root.dir, 'etc/systemd/system/drover-agent.service'), 'utf8');
  t.match(unit, /^ExecStart=\/usr\/local\/bin\/drover agent run --data-dir \/var\/lib\/drover\/agent$/m);
  // The chroot has no systemd to read agent.env: the roles it names are passed as --roles.
  const agent = runAgent(root.dir, 'amd64', 'cluster,node,fleet');
  t.teardown(() => agent.stop());
  for (const role of ['cluster', 'node', 'fleet']) {
    const status = await waitConnected(root.dir, 'amd64', role);
    t.equal(status?.roles.find((r) => r.name === role)?.state, 'connected', `${role}: ${JSON.stringify(status)}`);
  }
  t.equal((agentStatus(root.dir, 'amd64') as { agentId?: string } | undefined)?.agentId, agentId);
});

t.test('install.sh: re-running with a new token also keeps the identity', async (t) => {
  fs.writeFileSync(path.join(root.dir, 'usr/local/bin/drover'), '#!/bin/sh\necho old\n');
  const res = curlInstall(downloads.url, `agent --server ${server.url} --token ${server.token()}`);
  t.equal(res.status, 0, res.stderr);
  t.match(res.stderr, /installed \/usr\/local\/bin\/drover/);
  t.match(res.stderr, /already registered; keeping its identity/);
  t.equal((agentStatus(root.dir, 'amd64') as { agentId?: string } | undefined)?.agentId, agentId);
});

t.test('uninstaller: removes everything it installed and keeps the state; --remove-state after a reinstall leaves the root as it was', async (t) => {
  const res = inRoot(root.dir, 'amd64', ['/usr/local/bin/drover-uninstall.sh']);
  t.equal(res.status, 0, res.stderr);
  const left = diffSnapshots(before, snapshot(root.dir));
  t.same(left.removed, []);
  t.ok(left.added.length > 0 && left.added.every((p) => p.startsWith('var/lib/drover') || p.startsWith('var/cache/drover')), `only state is left: ${left.added.join(' ')}`);

  const again = curlInstall(downloads.url, `agent --server ${server.url} --token ${server.token()}`);
  t.equal(again.status, 0, again.stderr);
  t.equal(inRoot(root.dir, 'amd64', ['systemctl', 'is-enabled', 'drover-agent.service']).stdout.trim(), 'enabled', 'a new install: one unit');
  t.notOk(exists('etc/systemd/system/drover-fleet-agent.service'));
  const purge = inRoot(root.dir, 'amd64', ['/usr/local/bin/drover-uninstall.sh', '--remove-state']);
  t.equal(purge.status, 0, purge.stderr);
  t.same(diffSnapshots(before, snapshot(root.dir)), { added: [], removed: [] });
});

t.test('install.sh server: installs and enables drover-server.service with the flags in server.env', async (t) => {
  // No join token pins a CA for a server install: fetch from a plain http mirror here.
  const res = curlInstall(mirror.url, 'server --listen 0.0.0.0:9443 --tls-san drover.example.com', { INSTALL_DROVER_SKIP_START: 'true' });
  t.equal(res.status, 0, res.stderr);
  t.equal(inRoot(root.dir, 'amd64', ['systemctl', 'is-enabled', 'drover-server.service']).stdout.trim(), 'enabled');
  t.match(fs.readFileSync(path.join(root.dir, 'etc/drover/server.env'), 'utf8'), 'DROVER_SERVER_ARGS="--listen 0.0.0.0:9443 --tls-san drover.example.com"');
  t.equal(inRoot(root.dir, 'amd64', ['/usr/local/bin/drover-uninstall.sh', '--remove-state']).status, 0);
  t.same(diffSnapshots(before, snapshot(root.dir)), { added: [], removed: [] });
});
