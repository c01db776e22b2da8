// Issue 15 acceptance, `drover upgrade kubernetes`: a real control plane (test/k8s/harness.ts) whose
// kube-apiserver starts at v1.33.13 (built by test/k8s/build-upgrade-from.ts) is upgraded to
// v1.34.4 by a real node agent running the generated plan, with the server, the CLI, the artifact
// import and the node's verified fetch all real. First a build that crashes at start (correct
// checksum) is rolled back by itself and v1.33.13 serves again; a release whose checksum is wrong
// is refused by the CLI before anything is imported; a binary damaged on the server is refused by
// the node before anything stops; then the real upgrade succeeds and kubectl through the server
// sees v1.34.4.
//
// Substituted, and why: devices run the control plane under systemd units (K8S_STOP/K8S_START =
// systemctl …, docs/kubernetes-upgrade.md); no systemd runs here, so a small supervisor script
// stands in for the unit — it runs SITE/bin/kube-apiserver with the harness's flags, restarts it
// when it exits (Restart=always) and holds it while SITE/run/stopped exists (systemctl stop). The
// plan, the script and the layout file are the ones a device uses; only the two service commands
// differ. The host's control plane is not a Kubernetes node (no kubelet), so the node-Ready check
// and cordon find no node and say so.
import t from 'tap';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { ensureUpgradeFromBinaries } from '../k8s/build-upgrade-from.ts';
import { UPGRADE_FROM_VERSION, K8S_VERSION } from '../k8s/components.ts';
import { binDir } from '../k8s/paths.ts';
import { agentStatus, createToken, DROVER, drover, startAgent, startServer, waitFor, testDir } from './agent-helpers.ts';

interface Status { name: string; checksum: string; nodes: { id: string; state: string; checksum: string | null; instruction: string | null; exitCode: number | null; message: string }[] }

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

const SUPERVISOR = `#!/bin/sh
# Stand-in for a systemd unit with Restart=always: SITE/bin/kube-apiserver "$@", restarted when it exits.
SITE=$1; shift
mkdir -p "$SITE/run"
while :; do
  if [ -e "$SITE/run/stopped" ]; then sleep 0.2; continue; fi
  "$SITE/bin/kube-apiserver" "$@" &
  echo $! > "$SITE/run/pid"
  wait $! || echo "supervisor: kube-apiserver exited with $?" >&2
  sleep 1
done
`;
// systemctl stop / start for the stand-in unit.
const SERVICE = `#!/bin/sh
SITE=$(dirname "$0")
case $1 in
stop)
  touch "$SITE/run/stopped"
  pid=$(cat "$SITE/run/pid" 2>/dev/null || true)
  [ -n "$pid" ] || exit 0
  kill "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null; do i=$((i + 1)); [ $i -lt 600 ] || exit 1; sleep 0.1; done ;;
start) rm -f "$SITE/run/stopped" ;;
*) exit 2 ;;
esac
`;

t.test('upgrade kubernetes: v1.33 → v1.34 on a real control plane, automatic rollback of a crashing build, bad checksums refused', async (t) => {
  const oldBin = path.join(await ensureUpgradeFromBinaries(), 'kube-apiserver');
  const newBin = path.join(binDir(), 'kube-apiserver');
  const dir = testDir(t);
  const site = path.join(dir, 'site');
  mkdirSync(path.join(site, 'bin'), { recursive: true });
  mkdirSync(path.join(site, 'run'));
  copyFileSync(oldBin, path.join(site, 'bin', 'kube-apiserver'));
  chmodSync(path.join(site, 'bin', 'kube-apiserver'), 0o755);
  writeFileSync(path.join(site, 'supervisor'), SUPERVISOR, { mode: 0o755 });
  writeFileSync(path.join(site, 'service'), SERVICE, { mode: 0o755 });
  const cluster = await startCluster({ nodes: 1, apiserverCommand: (_bin, args) => ({ bin: path.join(site, 'supervisor'), args: [site, ...args] }) });
  t.teardown(() => cluster.stop());

  const serverDir = path.join(dir, 'server');
  const agentDir = path.join(dir, 'agent');
  const server = await startServer(serverDir, 0, { DROVER_PLAN_SYNC_MS: '200' });
  t.teardown(() => server.proc.stop());
  const admin = (...args: string[]) => drover([...args, '--data-dir', serverDir]);
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', await createToken(serverDir, ['--labels', 'site=lab']), '--name', 'cp-1', '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, reg.exitCode === 0 ? 'registered' : reg.stderr);

  // The node's layout file: what a device has in /etc/drover/kubernetes.env, pointed at this site.
  const layout = path.join(site, 'kubernetes.env');
  const etcdctl = `ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:${cluster.ports.etcdClient} snapshot save "$1"`;
  writeFileSync(layout, [
    `K8S_BIN_DIR=${site}/bin`,
    `K8S_STOP='${site}/service stop'`,
    `K8S_START='${site}/service start'`,
    `K8S_KUBECTL=${tools.kubectl()}`,
    `K8S_KUBECONFIG=${cluster.kubeconfig}`,
    `K8S_APISERVER_URL=${cluster.server}`,
    'K8S_NODE_NAME=the-control-plane-host',
    `K8S_SNAPSHOT='${etcdctl}'`,
    `DROVER=${DROVER}`,
    `export DROVER_AGENT_DATA_DIR=${agentDir}`,
    '',
  ].join('\n'));

  const agent = startAgent(agentDir, ['--roles', 'cluster,node'], { DROVER_NODE_PLAN_SCAN_MS: '200', DROVER_LOG_LEVEL: 'info' });
  t.teardown(() => agent.stop());
  const { clusterId, nodeId } = await waitFor('cluster and node roles connected', async () => {
    const s = await agentStatus(agentDir);
    return ['cluster', 'node'].every((r) => s.roles.find((x) => x.name === r)?.state === 'connected') ? s : undefined;
  });
  const node = await waitFor('the node to report node.controlPlane', async () => {
    const r = await admin('node', 'get', nodeId, '--json');
    const n = r.exitCode === 0 ? (JSON.parse(r.stdout) as { facts?: { extras?: Record<string, string> } }) : undefined;
    return n?.facts?.extras?.['node.controlPlane'] !== undefined ? n : undefined;
  });
  t.equal(node.facts?.extras?.['node.controlPlane'], 'true', 'a kube-apiserver runs on this host: a control-plane node');

  const kc = path.join(dir, 'through-drover.yaml');
  writeFileSync(kc, (await admin('kubeconfig', clusterId)).stdout);
  const served = async (): Promise<string> => {
    const r = await execa(tools.kubectl(), ['--kubeconfig', kc, '--cache-dir', path.join(dir, 'kcache'), 'version', '-o', 'json'], { reject: false, timeout: 30_000 });
    return r.exitCode === 0 ? (JSON.parse(String(r.stdout)) as { serverVersion?: { gitVersion?: string } }).serverVersion?.gitVersion ?? '' : '';
  };
  await waitFor(`${UPGRADE_FROM_VERSION} served through the server`, async () => (await served()) === UPGRADE_FROM_VERSION, 60_000);
  const pidBefore = readFileSync(path.join(site, 'run', 'pid'), 'utf8').trim();

  const release = (name: string, binary: string, sum?: string): string => {
    const d = path.join(dir, name);
    mkdirSync(d);
    symlinkSync(binary, path.join(d, 'kube-apiserver'));
    writeFileSync(path.join(d, 'sha256sums'), `${sum ?? sha(binary)}  kube-apiserver\n`);
    return d;
  };
  // A short health timeout where the rollback is the point; the real v1.34 start on a loaded machine gets more.
  const upgrade = (version: string, from: string, healthTimeout: string, ...extra: string[]) =>
    admin('upgrade', 'kubernetes', '--version', version, '--from', from, '--target', 'site=lab', '--layout', layout, '--work-dir', path.join(site, 'work'), '--health-timeout', healthTimeout, ...extra);
  const finished = (name: string): Promise<Status> => waitFor(`plan ${name} to finish`, async () => {
    const r = await admin('plan', 'status', name, '--json');
    const s = r.exitCode === 0 ? (JSON.parse(r.stdout) as Status) : undefined;
    return s && s.nodes.length === 1 && s.nodes.every((n) => n.checksum === s.checksum && ['Succeeded', 'RolledBack', 'Failed'].includes(n.state)) ? s : undefined;
  }, 240_000);

  await t.test('a build with the right checksum that exits at start is rolled back by itself', async (t) => {
    const crashing = path.join(dir, 'crashing-kube-apiserver');
    writeFileSync(crashing, '#!/bin/sh\n[ "$1" = --version ] && { echo "Kubernetes v1.34.5-broken.1"; exit 0; }\necho "crashing at start" >&2\nexit 1\n', { mode: 0o755 });
    const r = await upgrade('v1.34.5-broken.1', release('broken', crashing), '10');
    t.equal(r.exitCode, 0, r.exitCode === 0 ? 'imported and applied' : r.stderr);
    const s = await finished('kubernetes-v1.34.5-broken.1');
    t.equal(s.nodes[0]?.state, 'RolledBack', s.nodes[0]?.message ?? '');
    t.match(s.nodes[0]?.message ?? '', /health/);
    t.equal(sha(path.join(site, 'bin', 'kube-apiserver')), sha(oldBin), 'the previous binary is back in place');
    await waitFor(`${UPGRADE_FROM_VERSION} served again`, async () => (await served()) === UPGRADE_FROM_VERSION, 60_000);
    t.pass(`kubectl version through the server: ${UPGRADE_FROM_VERSION}`);
  });

  const pidAfterRollback = readFileSync(path.join(site, 'run', 'pid'), 'utf8').trim();
  t.not(pidAfterRollback, pidBefore, 'the rollback restarted the service');

  await t.test('a release whose binary does not match its published checksum is refused before anything is imported', async (t) => {
    const plansBefore = (await admin('plan', 'list', '--json')).stdout;
    const r = await upgrade(K8S_VERSION, release('wrong-sum', newBin, 'f'.repeat(64)), '20');
    t.equal(r.exitCode, 1);
    t.match(r.stderr, /refused: .*kube-apiserver has SHA-256 [0-9a-f]{64}, but its published checksum is f{64}; nothing was imported or applied/);
    t.notOk(existsSync(path.join(serverDir, 'artifacts', 'kubernetes', K8S_VERSION, 'kube-apiserver')), 'nothing imported');
    t.equal((await admin('plan', 'list', '--json')).stdout, plansBefore, 'no plan applied');
  });

  await t.test('a binary damaged on the server is refused by the node before anything stops', async (t) => {
    const good = release('good', newBin);
    // Imported earlier, then damaged on the server's disk: its recorded SHA-256 is the right one, the
    // bytes are not (a re-import of the same release leaves an existing entry as it is).
    const stored = path.join(serverDir, 'artifacts', 'kubernetes', K8S_VERSION, 'kube-apiserver');
    mkdirSync(path.dirname(stored), { recursive: true });
    writeFileSync(`${stored}.sha256`, `${sha(newBin)}  kube-apiserver\n`);
    writeFileSync(stored, 'not kube-apiserver');
    const r = await upgrade(K8S_VERSION, good, '20', '--name', 'damaged');
    t.equal(r.exitCode, 0, r.exitCode === 0 ? 'imported and applied' : r.stderr);
    const s = await finished('damaged');
    t.not(s.nodes[0]?.state, 'Succeeded');
    t.match(s.nodes[0]?.message ?? '', /instruction fetch failed/, 'failed at the first step');
    const { stdout } = await admin('node', 'get', nodeId, '--json');
    t.match(stdout, /not [0-9a-f]{64} as the plan says; refused/, 'the node says why');
    t.equal(readFileSync(path.join(site, 'run', 'pid'), 'utf8').trim(), pidAfterRollback, 'kube-apiserver was never stopped');
    t.equal(sha(path.join(site, 'bin', 'kube-apiserver')), sha(oldBin));
    copyFileSync(newBin, stored); // repaired for the next run
  });

  await t.test(`the real upgrade: ${UPGRADE_FROM_VERSION} → ${K8S_VERSION}, served through the server`, async (t) => {
    const r = await upgrade(K8S_VERSION, path.join(dir, 'good'), '180', '--name', 'kubernetes-upgrade');
    t.equal(r.exitCode, 0, r.exitCode === 0 ? 'imported and applied' : r.stderr);
    const s = await finished('kubernetes-upgrade');
    t.equal(s.nodes[0]?.state, 'Succeeded', s.nodes[0]?.message ?? '');
    t.equal(sha(path.join(site, 'bin', 'kube-apiserver')), sha(newBin));
    t.equal(sha(path.join(site, 'bin', 'kube-apiserver.previous')), sha(oldBin), 'the previous version is kept');
    t.ok(existsSync(path.join(site, 'work', K8S_VERSION, 'datastore.snapshot')), 'etcd was snapshotted before the stop');
    await waitFor(`${K8S_VERSION} served`, async () => (await served()) === K8S_VERSION, 60_000);
    t.pass(`kubectl version through the server: ${K8S_VERSION}`);
  });
});
