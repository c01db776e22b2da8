// The units under a real systemd (issue 7): the debootstrap root is booted with systemd-nspawn
// (systemd as PID 1, host network, so the server on the host's loopback is reachable). A one-shot
// test unit inside runs the documented `curl | sh` install, then records what systemd reports:
// the default install's one agent unit (all roles in one process, issue 25) active and connected,
// the SQLite addon in its CacheDirectory=, a killed agent restarted by Restart=always; a re-run
// with INSTALL_DROVER_UNITS=per-role switching to the three hardened role units, all connected;
// the uninstaller stopping and removing the units; then the same for `install.sh server`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { droverCacheDir } from '../../packaging/node-runtime.ts';
import { builtDist, REPO_ROOT } from '../../packaging/testing/dist.ts';
import { startDownloadServer } from '../../packaging/testing/download-server.ts';
import { scratchRoot } from '../../packaging/testing/rootfs.ts';
import { startServer } from '../../packaging/testing/server.ts';

fs.mkdirSync(path.join(droverCacheDir(), 'test'), { recursive: true, mode: 0o700 });
const dist = builtDist();
const work = fs.mkdtempSync(path.join(droverCacheDir(), 'test', 'systemd-'));
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
const server = await startServer(path.join(dist.dir, 'drover-linux-amd64'), path.join(work, 'server'));
t.teardown(() => server.stop());
const downloads = await startDownloadServer(dist.dir, path.join(REPO_ROOT, 'packaging', 'install.sh'), path.join(server.dataDir, 'tls'));
t.teardown(() => downloads.close());
// No join token pins a CA for a server install: it downloads from a plain http mirror.
const mirror = await startDownloadServer(dist.dir, path.join(REPO_ROOT, 'packaging', 'install.sh'));
t.teardown(() => mirror.close());
const root = scratchRoot('amd64');
t.teardown(root.cleanup);

/** Runs inside the container as a boot-time one-shot unit; results go to /root/results. */
const BOOT_SCRIPT = `#!/bin/sh
out=/root/results
exec >/root/boot-test.log 2>&1
show() { systemctl show -p ActiveState -p NRestarts -p MainPID "$1" | sed "s/^/$2./" >>"$out"; }
connected() { drover agent status --json | grep -o '"state":"connected"' | wc -l; }
curl -sfLk "$DL/install.sh" | INSTALL_DROVER_DOWNLOAD_URL="$DL" sh -s - agent --server "$SRV" --token "$TOKEN"
rc=$?
echo "install=$rc" >>"$out"
if [ $rc != 0 ]; then echo "done=1" >>"$out"; systemctl poweroff; exit 1; fi
i=0; while [ "$(connected)" -lt 3 ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
drover agent status --json >/root/status.json
show drover-agent one
addons() { for d in /var/cache/drover/*/native; do echo "$d:"; ls "$d"; done; }
addons >/root/addons.txt
kill -9 "$(systemctl show -p MainPID --value drover-agent)"
i=0; while [ "$(systemctl show -p NRestarts --value drover-agent)" = 0 ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
i=0; while [ "$(systemctl is-active drover-agent)" != active ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
show drover-agent crashed
curl -sfLk "$DL/install.sh" | INSTALL_DROVER_UNITS=per-role INSTALL_DROVER_DOWNLOAD_URL="$DL" sh -s - agent --server "$SRV"
echo "perrole.install=$?" >>"$out"
sleep 1
i=0; while [ "$(connected)" -lt 3 ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
drover agent status --json >/root/status-per-role.json
show drover-agent after
for role in cluster node fleet; do show "drover-$role-agent" $role; done
addons >/root/addons-per-role.txt
/usr/local/bin/drover-uninstall.sh --remove-state
echo "uninstall=$?" >>"$out"
systemctl list-unit-files 'drover-*' --no-legend >/root/unit-files.txt
curl -sfL "$MIRROR/install.sh" | INSTALL_DROVER_DOWNLOAD_URL="$MIRROR" sh -s - server --listen 127.0.0.1:0
echo "server.install=$?" >>"$out"
i=0; while [ ! -s /var/lib/drover/server/server.json ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
systemctl show -p ActiveState -p NRestarts drover-server | sed "s/^/server./" >>"$out"
drover token create --data-dir /var/lib/drover/server >/root/server-token.txt
echo "server.token=$?" >>"$out"
/usr/local/bin/drover-uninstall.sh --remove-state
echo "server.uninstall=$?" >>"$out"
echo "done=1" >>"$out"
systemctl poweroff
`;

const BOOT_UNIT = `[Unit]
Description=drover packaging test
After=multi-user.target
[Service]
Type=oneshot
TimeoutStartSec=300
EnvironmentFile=/root/boot-test.env
ExecStart=/root/boot-test.sh
[Install]
WantedBy=multi-user.target
`;

function readResults(): Record<string, string> {
  const file = path.join(root.dir, 'root', 'results');
  if (!fs.existsSync(file)) return {};
  return Object.fromEntries(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

t.test('systemd: install.sh under a booted systemd starts the all-roles agent, restarts it after a crash, switches to three hardened role units, and uninstalls cleanly', async (t) => {
  fs.writeFileSync(path.join(root.dir, 'root', 'boot-test.sh'), BOOT_SCRIPT, { mode: 0o755 });
  fs.writeFileSync(path.join(root.dir, 'root', 'boot-test.env'), `DL=${downloads.url}\nMIRROR=${mirror.url}\nSRV=${server.url}\nTOKEN=${server.token()}\n`);
  fs.writeFileSync(path.join(root.dir, 'etc', 'systemd', 'system', 'boot-test.service'), BOOT_UNIT);
  fs.symlinkSync('/etc/systemd/system/boot-test.service', path.join(root.dir, 'etc', 'systemd', 'system', 'multi-user.target.wants', 'boot-test.service'));

  const boot = spawnSync('systemd-nspawn', ['--quiet', '--register=no', '--keep-unit', '--directory', root.dir, '--boot'], {
    encoding: 'utf8',
    timeout: 300_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = () => fs.readFileSync(path.join(root.dir, 'root', 'boot-test.log'), 'utf8');
  t.equal(boot.error, undefined, 'systemd-nspawn booted and powered off within its time limit');
  const r = readResults();
  t.equal(r['done'], '1', 'the boot script ran to the end');
  t.equal(r['install'], '0', fs.existsSync(path.join(root.dir, 'root', 'boot-test.log')) ? log() : boot.stderr);

  type Status = { agentId: string; roles: { name: string; state: string }[] };
  const status = JSON.parse(fs.readFileSync(path.join(root.dir, 'root', 'status.json'), 'utf8')) as Status;
  for (const role of ['cluster', 'node', 'fleet']) t.equal(status.roles.find((x) => x.name === role)?.state, 'connected', `${role} role connected`);
  t.equal(r['one.ActiveState'], 'active', 'drover-agent.service active');
  t.equal(r['one.NRestarts'], '0', 'drover-agent.service never restarted');
  const addons = fs.readFileSync(path.join(root.dir, 'root', 'addons.txt'), 'utf8');
  t.match(addons, /^\/var\/cache\/drover\/agent\/native:\nbetter_sqlite3-[0-9a-f]{64}\.node$/m, 'addon in its CacheDirectory=');
  t.equal(r['crashed.ActiveState'], 'active', 'the killed agent is running again');
  t.equal(r['crashed.NRestarts'], '1', 'restarted once by Restart=always');
  t.not(r['crashed.MainPID'], r['one.MainPID'], 'a new process');

  t.equal(r['perrole.install'], '0', 'the per-role re-run succeeded');
  t.equal(r['after.ActiveState'], 'inactive', 'the all-roles unit was stopped');
  const perRole = JSON.parse(fs.readFileSync(path.join(root.dir, 'root', 'status-per-role.json'), 'utf8')) as Status;
  t.equal(perRole.agentId, status.agentId, 'the identity is kept');
  for (const role of ['cluster', 'node', 'fleet']) {
    t.equal(perRole.roles.find((x) => x.name === role)?.state, 'connected', `${role} agent connected`);
    t.equal(r[`${role}.ActiveState`], 'active', `drover-${role}-agent.service active`);
  }
  const perRoleAddons = fs.readFileSync(path.join(root.dir, 'root', 'addons-per-role.txt'), 'utf8');
  for (const unit of ['cluster-agent', 'node-agent', 'fleet-agent']) {
    t.match(perRoleAddons, new RegExp(`/var/cache/drover/${unit}/native:\\nbetter_sqlite3-[0-9a-f]{64}\\.node`), `${unit}: addon in its CacheDirectory=`);
  }
  t.equal(r['uninstall'], '0');
  t.equal(fs.readFileSync(path.join(root.dir, 'root', 'unit-files.txt'), 'utf8').trim(), '', 'no drover unit left');
  t.notOk(fs.existsSync(path.join(root.dir, 'var', 'lib', 'drover')), 'state removed with --remove-state');
});

t.test('systemd: the server unit starts under systemd and the admin CLI on the host reads its data dir', async (t) => {
  const r = readResults();
  t.equal(r['server.install'], '0');
  t.equal(r['server.ActiveState'], 'active');
  t.equal(r['server.NRestarts'], '0');
  t.equal(r['server.token'], '0', 'drover token create --data-dir /var/lib/drover/server works next to the hardened server');
  t.match(fs.readFileSync(path.join(root.dir, 'root', 'server-token.txt'), 'utf8'), /^D10[0-9a-f]{64}::\S+\n$/);
  t.equal(r['server.uninstall'], '0');
});
