// The fault suite's scenarios (issue 14), run by fault-suite.test.ts inside a network namespace of
// their own. Real processes: a harness kube-apiserver, `drover server`, `drover agent run --roles
// fleet`. The agent reaches the server at 127.0.0.2 (the faulted path), the test at 127.0.0.1.
// For each scenario: convergence to the latest revision on the cluster, the bundle Ready at the
// server, and the ledger: every status the agent recorded in its outbox stored by the server
// exactly once and in order. Figures (heal → Connected, heal → Ready) are printed as TAP comments
// and written to $DROVER_FAULT_REPORT when set. Waits poll real state; nothing asserts on time.
import t, { type Test } from 'tap';
import https from 'node:https';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { drover, Proc, startAgent, waitFor, testDir } from '../e2e/agent-helpers.ts';
import { fleetServerEnv, FLEET_AGENT_ENV } from '../e2e/fleet-helpers.ts';
import { checkLedger, type LedgerResult } from './ledger.ts';
import { AGENT_PATH_ADDR, NetFaults } from './net-faults.ts';

if (process.env.DROVER_FAULT_NETNS !== '1') throw new Error('run test/faults/fault-suite.test.ts, which moves this into a network namespace');

const FULL = process.env.DROVER_FAULTS === 'full';
const PLAN = FULL
  ? { partitionMs: 120_000, shortPartitions: 10, shortPartitionMs: 5_000, lossRevisions: 10, apiDownMs: 120_000, killRounds: 20, killObjects: 500, diskFullMs: 60_000 }
  : { partitionMs: 20_000, shortPartitions: 2, shortPartitionMs: 3_000, lossRevisions: 3, apiDownMs: 15_000, killRounds: 3, killObjects: 100, diskFullMs: 10_000 };
const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
const OBJECTS = 20;
const figures: Record<string, unknown> = { mode: FULL ? 'full' : 'short', plan: PLAN };

const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const port = (s.address() as net.AddressInfo).port;
    s.close(() => resolve(port));
  });
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

// Certificates valid from 2 h ago: the clock scenario runs the agent 1 h behind.
process.env.DROVER_TEST_PKI_BACKDATE = '-2h';
const cluster = await startCluster({ nodes: 1 });
t.teardown(() => cluster.stop());
const dir = testDir(t);
const serverDir = path.join(dir, 'server');
const agentDir = path.join(dir, 'agent');
const port = await freePort();

let server = await startServerProc();
t.teardown(() => server.stop('SIGKILL'));
const faults = new NetFaults(port);
t.teardown(() => faults.clear());

async function startServerProc(): Promise<Proc> {
  const proc = new Proc(['server', '--data-dir', serverDir, '--listen', `0.0.0.0:${port}`, '--tls-san', AGENT_PATH_ADDR], fleetServerEnv());
  await waitFor('the server to listen', () => {
    if (!proc.running) throw new Error(`server exited: ${proc.output.slice(-2000)}`);
    return proc.logs().some((l) => l.msg === 'drover server listening');
  });
  return proc;
}

/** Admin API over 127.0.0.1 (never faulted). */
function admin(pathname: string): Promise<{ status: number; json: unknown }> {
  const ca = readFileSync(path.join(serverDir, 'tls', 'ca.crt'), 'utf8');
  const token = readFileSync(path.join(serverDir, 'admin-token'), 'utf8').trim();
  return new Promise((resolve, reject) => {
    const req = https.get(`https://127.0.0.1:${port}${pathname}`, { ca, headers: { authorization: `Bearer ${token}` }, agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const kubectl = async (args: string[]): Promise<{ code: number; out: string }> => {
  const r = await execa(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args], { reject: false, timeout: 60_000 });
  return { code: r.exitCode ?? -1, out: String(r.stdout) };
};

// ---- the agent ----
// Its data dir is a small tmpfs of its own (the suite runs in a private mount namespace too), so
// the disk-full scenario fills exactly the agent's disk.
mkdirSync(agentDir, { recursive: true });
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0700', 'tmpfs', agentDir]);
if (mounted.status !== 0) throw new Error(`mount tmpfs: ${mounted.stderr.toString()}`);
t.teardown(() => {
  spawnSync('umount', ['-l', agentDir]);
});
const token = (await drover(['token', 'create', '--data-dir', serverDir, '--labels', 'env=edge'])).stdout.trim();
const reg = await drover(['agent', 'register', '--server', `https://${AGENT_PATH_ADDR}:${port}`, '--token', token, '--name', 'site', '--labels', 'env=edge', '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
if (reg.exitCode !== 0) throw new Error(`register: ${reg.stderr}`);
let agent = startAgent(agentDir, ['--roles', 'fleet'], { ...FLEET_AGENT_ENV });
t.teardown(() => agent.stop());

interface SessionView { agentId: string; role: string }
async function fleetSession(): Promise<SessionView | undefined> {
  const r = await admin('/v1/sessions');
  return r.status === 200 ? (r.json as SessionView[]).find((s) => s.role === 'fleet') : undefined;
}
const agentId = (await waitFor('the fleet tunnel', fleetSession, 60_000)).agentId;

// ---- bundles ----
let revision = 0;
/** Pushes bundle `name`: `count` ConfigMaps in namespace `ns`, each with data v = `value`. */
async function pushBundle(name: string, ns: string, count: number, value: string): Promise<void> {
  const d = path.join(dir, `bundle-${name}-${value}`);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  let yaml = `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n---\n`;
  for (let i = 0; i < count; i++) yaml += `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}, namespace: ${ns}}\ndata: {v: "${value}"}\n---\n`;
  writeFileSync(path.join(d, 'all.yaml'), yaml);
  const r = await drover(['bundle', 'apply', d, '--name', name, '--data-dir', serverDir]);
  if (r.exitCode !== 0) throw new Error(`bundle apply ${name}: ${r.stderr}`);
}

async function applyRevision(): Promise<number> {
  revision++;
  await pushBundle('web', 'faults', OBJECTS, `rev-${revision}`);
  return revision;
}

/** ConfigMaps c* in `ns` holding `value`. */
async function holding(ns: string, value: string): Promise<number> {
  const values = await kubectl(['-n', ns, 'get', 'configmaps', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.data.v}{"\\n"}{end}']);
  return values.out.split('\n').filter((l) => /^c\d+=/.test(l) && l.endsWith(`=${value}`)).length;
}

interface BundleStatus { revision: string; clusters: { id: string; state: string; message: string }[] }
async function bundleReady(name: string): Promise<boolean> {
  const r = await admin(`/v1/fleet/bundles/${name}`);
  const s = r.json as BundleStatus | undefined;
  return r.status === 200 && s?.clusters.length === 1 && s.clusters[0]?.state === 'Ready';
}

/** The bundle Ready at the server for the latest revision, and the cluster holding it. */
async function converged(): Promise<boolean> {
  return (await bundleReady('web')) && (await holding('faults', `rev-${revision}`)) === OBJECTS;
}

/** Waits for the agent's outbox to drain, then compares its ledger with the server's. */
async function ledger(): Promise<LedgerResult> {
  const agentDb = new Database(path.join(agentDir, 'agent.db'), { readonly: true, fileMustExist: true });
  const serverDb = new Database(path.join(serverDir, 'fleet.db'), { readonly: true, fileMustExist: true });
  try {
    await waitFor('the agent outbox to drain', () => (agentDb.prepare('SELECT COUNT(*) FROM fleet_outbox').pluck().get() as number) === 0, 120_000);
    const lastSeq = Number(agentDb.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'fleet_outbox'").pluck().get() ?? 0);
    const coalesced = Number(agentDb.prepare("SELECT value FROM fleet_meta WHERE key = 'outbox.coalesced'").pluck().get() ?? 0);
    const rows = serverDb.prepare('SELECT seq, received_at AS receivedAt FROM fleet_status_events WHERE agent_id = ? ORDER BY seq').all(agentId) as { seq: number; receivedAt: number }[];
    const serverLast = Number(serverDb.prepare('SELECT last_seq FROM fleet_agent_seq WHERE agent_id = ?').pluck().get(agentId) ?? 0);
    return checkLedger({ lastSeq, pending: 0, coalesced }, rows, serverLast);
  } finally {
    agentDb.close();
    serverDb.close();
  }
}

function checkLedgerIn(tt: Test, name: string, l: LedgerResult): void {
  figures[`${name}.ledger`] = { recorded: l.expected, stored: l.stored, lost: l.lost, duplicated: l.duplicated.length, reordered: l.reordered };
  tt.comment(`${name}: ledger ${l.stored}/${l.expected} stored, lost ${l.lost}, duplicated ${l.duplicated.length}, reordered ${l.reordered}`);
  tt.equal(l.lost, 0, `${name}: no status lost (missing ${l.missing.slice(0, 10).join(',')})`);
  tt.same(l.duplicated, [], `${name}: none duplicated`);
  tt.equal(l.reordered, 0, `${name}: none reordered`);
  tt.equal(l.serverLastSeq, l.agentLastSeq, `${name}: the server holds up to the agent's last seq`);
}

/** Warning and error agent log lines since `from`, counted by message and error. */
function agentErrorsSince(from: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of agent.logs()) {
    if (Number(l.time ?? 0) < from || Number(l.level ?? 0) < 40) continue;
    const msg = `${String(l.msg)}${l.err === undefined ? '' : ` (${typeof l.err === 'string' ? l.err : JSON.stringify(l.err)})`}`;
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  return counts;
}

/** Scenario options: selected by DROVER_FAULTS_ONLY (comma-separated keys), all by default; on
 *  failure the last agent and server log lines are printed. */
const ONLY = process.env.DROVER_FAULTS_ONLY?.split(',').map((x) => x.trim());
function scenario(key: string, extra: { todo?: string } = {}): { skip?: string; todo?: string } {
  if (ONLY !== undefined && !ONLY.includes(key)) return { skip: `not in DROVER_FAULTS_ONLY` };
  return extra;
}
t.afterEach((tt) => {
  if (tt.passing()) return;
  const tail = (p: Proc) => p.output.trim().split('\n').slice(-25).map((l) => l.slice(0, 400)).join('\n');
  tt.comment(`agent log tail:\n${tail(agent)}\nserver log tail:\n${tail(server)}`);
});

await t.test('baseline: the first revision converges', async (t) => {
  await applyRevision();
  await waitFor('convergence', converged, 120_000);
  checkLedgerIn(t, 'baseline', await ledger());
});

await t.test(`partition of ${PLAN.partitionMs / 1000} s with revisions and drift during it, then heal`, scenario('partition'), async (t) => {
  t.teardown(() => faults.heal());
  const from = Date.now();
  faults.partition();
  await waitFor('the server to lose the fleet tunnel', async () => (await fleetSession()) === undefined, 60_000);
  await applyRevision();
  const drift = await kubectl(['-n', 'faults', 'delete', 'configmap', 'c1']);
  t.equal(drift.code, 0, 'drift made on the cluster during the partition');
  await applyRevision();
  await sleep(Math.max(0, from + PLAN.partitionMs - Date.now()));
  const errors = agentErrorsSince(from);
  figures['partition.agentErrorLines'] = Object.fromEntries(errors);
  const healedAt = Date.now();
  faults.heal();
  await waitFor('the fleet tunnel after heal', fleetSession, 300_000);
  const connectedMs = Date.now() - healedAt;
  await waitFor('convergence after heal', converged, 300_000);
  const readyMs = Date.now() - healedAt;
  figures['partition.healToConnectedMs'] = connectedMs;
  figures['partition.healToReadyMs'] = readyMs;
  t.comment(`partition: heal → Connected ${connectedMs} ms, heal → Ready ${readyMs} ms; agent error lines during it: ${JSON.stringify(Object.fromEntries(errors))}`);
  for (const [msg, n] of errors) t.equal(n, 1, `"${msg.slice(0, 160)}" logged once during the partition (once per state change)`);
  checkLedgerIn(t, 'partition', await ledger());
});

await t.test(`${PLAN.shortPartitions} partitions that break the tunnel: heal → Connected and → Ready`, scenario('partitions'), async (t) => {
  t.teardown(() => faults.heal());
  const connected: number[] = [];
  const ready: number[] = [];
  for (let i = 0; i < PLAN.shortPartitions; i++) {
    // Long enough for the tunnel to die (PING unanswered): what is measured is a reconnect.
    faults.partition();
    await waitFor('the server to lose the fleet tunnel', async () => (await fleetSession()) === undefined, 60_000);
    await applyRevision();
    await sleep(PLAN.shortPartitionMs);
    const healedAt = Date.now();
    faults.heal();
    await waitFor('the fleet tunnel after heal', fleetSession, 300_000);
    connected.push(Date.now() - healedAt);
    await waitFor('convergence after heal', converged, 300_000);
    ready.push(Date.now() - healedAt);
  }
  figures['shortPartitions.healToConnectedMs'] = { p50: percentile(connected, 50), p99: percentile(connected, 99), all: connected };
  figures['shortPartitions.healToReadyMs'] = { p50: percentile(ready, 50), p99: percentile(ready, 99), all: ready };
  t.comment(`short partitions: heal → Connected p50 ${percentile(connected, 50)} ms p99 ${percentile(connected, 99)} ms; heal → Ready p50 ${percentile(ready, 50)} ms p99 ${percentile(ready, 99)} ms`);
  checkLedgerIn(t, 'shortPartitions', await ledger());
});

await t.test(`30 % loss and 300 ms delay both ways while ${PLAN.lossRevisions} revisions are applied`, scenario('loss'), async (t) => {
  t.teardown(() => faults.clearLossAndDelay());
  await faults.lossAndDelay(0.3, 300);
  const start = Date.now();
  for (let i = 0; i < PLAN.lossRevisions; i++) {
    await applyRevision();
    await waitFor(`revision ${revision} under loss`, converged, 600_000);
  }
  figures['loss.msPerRevision'] = Math.round((Date.now() - start) / PLAN.lossRevisions);
  await faults.clearLossAndDelay();
  t.comment(`loss: ${figures['loss.msPerRevision']} ms per revision; ${faults.log.trim().split('\n').at(-1)}`);
  checkLedgerIn(t, 'loss', await ledger());
});

await t.test('server kill -9 during delivery, restart on the same port', scenario('server-kill'), async (t) => {
  await applyRevision();
  // The delivery loop runs every second: kill somewhere inside the first cycles after the apply.
  await sleep(Math.floor(Math.random() * 1500));
  server.signal('SIGKILL');
  await server.wait();
  const killedAt = Date.now();
  server = await startServerProc();
  await waitFor('the fleet tunnel after restart', fleetSession, 300_000);
  const connectedMs = Date.now() - killedAt;
  await waitFor('convergence after restart', converged, 300_000);
  figures['serverKill.restartToConnectedMs'] = connectedMs;
  figures['serverKill.restartToReadyMs'] = Date.now() - killedAt;
  t.comment(`server kill -9: restart → Connected ${connectedMs} ms, → Ready ${figures['serverKill.restartToReadyMs']} ms`);
  checkLedgerIn(t, 'serverKill', await ledger());
});

await t.test(`kube-apiserver stopped for ${PLAN.apiDownMs / 1000} s while the tunnel is up`, scenario('apiserver'), async (t) => {
  const apiserver = cluster.procs.find((p) => p.name === 'kube-apiserver');
  t.ok(apiserver, 'the harness names its kube-apiserver process');
  if (!apiserver) return;
  process.kill(apiserver.pid, 'SIGSTOP');
  try {
    await applyRevision();
    await sleep(PLAN.apiDownMs);
    t.ok(await fleetSession(), 'the tunnel stayed up');
  } finally {
    process.kill(apiserver.pid, 'SIGCONT');
  }
  const backAt = Date.now();
  await waitFor('convergence after the kube-apiserver is back', converged, 300_000);
  figures['apiserverDown.backToReadyMs'] = Date.now() - backAt;
  t.comment(`kube-apiserver down: back → Ready ${figures['apiserverDown.backToReadyMs']} ms`);
  checkLedgerIn(t, 'apiserverDown', await ledger());
});

await t.test(`agent kill -9 at random points of a ${PLAN.killObjects}-object apply, ${PLAN.killRounds} rounds, alternating revisions`, scenario('agent-kill'), async (t) => {
  const kills: number[] = [];
  let value = '';
  for (let round = 0; round < PLAN.killRounds; round++) {
    value = round % 2 === 0 ? 'big-a' : 'big-b';
    await pushBundle('big', 'faults-big', PLAN.killObjects, value);
    // Kill once the cluster holds a random number of the new objects (or the apply is done).
    const at = 1 + Math.floor(Math.random() * (PLAN.killObjects - 1));
    const reached = await waitFor(`${at} objects of ${value}`, async () => {
      const n = await holding('faults-big', value);
      return n >= at ? n : undefined;
    }, 300_000).catch(() => -1);
    agent.signal('SIGKILL');
    await agent.wait();
    kills.push(reached);
    agent = startAgent(agentDir, ['--roles', 'fleet'], { ...FLEET_AGENT_ENV });
  }
  figures['agentKill.objectsHeldAtKill'] = kills;
  t.comment(`agent kill -9: objects of the new revision on the cluster at each kill: ${kills.join(', ')}`);
  await waitFor('the big bundle to converge', async () => (await bundleReady('big')) && (await holding('faults-big', value)) === PLAN.killObjects, 600_000);
  t.pass('the last revision converged after every kill');
  checkLedgerIn(t, 'agentKill', await ledger());
});

await t.test('the agent\'s clock 1 h ahead, then 1 h behind the server\'s', scenario('clock'), async (t) => {
  if (!existsSync(FAKETIME_LIB)) {
    t.pass('skipped: libfaketime is not installed (Debian faketime; .ci/apt-packages.txt)', { skip: true });
    return;
  }
  try {
    for (const offset of ['+1h', '-1h']) {
      await agent.stop();
      agent = startAgent(agentDir, ['--roles', 'fleet'], { ...FLEET_AGENT_ENV, LD_PRELOAD: FAKETIME_LIB, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1' });
      await waitFor(`the fleet tunnel with the clock at ${offset}`, fleetSession, 120_000);
      await applyRevision();
      await waitFor(`convergence with the clock at ${offset}`, converged, 300_000);
      t.pass(`converged with the agent's clock at ${offset}`);
      checkLedgerIn(t, `clock${offset}`, await ledger());
    }
  } finally {
    await agent.stop();
    agent = startAgent(agentDir, ['--roles', 'fleet'], { ...FLEET_AGENT_ENV });
    await waitFor('the fleet tunnel with the true clock', fleetSession, 120_000);
  }
});

await t.test(`the agent's disk full for ${PLAN.diskFullMs / 1000} s, then space freed`, scenario('disk'), async (t) => {
  const filler = path.join(agentDir, 'filler');
  t.teardown(() => rmSync(filler, { force: true }));
  // Fill the tmpfs to the last block.
  spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M', 'count=1024'], { stdio: 'ignore' });
  const df = spawnSync('df', ['-k', '--output=avail', agentDir], { encoding: 'utf8' });
  t.comment(`agent disk: ${df.stdout.trim().split('\n').at(-1)} KiB free after filling`);
  const from = Date.now();
  await applyRevision();
  await sleep(PLAN.diskFullMs);
  figures['diskFull.agentAliveWhileFull'] = agent.running;
  figures['diskFull.agentErrorLines'] = Object.fromEntries(agentErrorsSince(from));
  t.comment(`disk full: agent ${agent.running ? 'kept running' : 'exited'}; error lines: ${JSON.stringify(figures['diskFull.agentErrorLines'])}`);
  for (const [msg, n] of agentErrorsSince(from)) t.ok(n <= 2, `"${msg.slice(0, 160)}" logged ${n} time(s) while the disk was full (not once per retry)`);
  rmSync(filler, { force: true });
  const freedAt = Date.now();
  if (!agent.running) agent = startAgent(agentDir, ['--roles', 'fleet'], { ...FLEET_AGENT_ENV });
  await waitFor('convergence after space is freed', converged, 300_000);
  figures['diskFull.freedToReadyMs'] = Date.now() - freedAt;
  t.comment(`disk full: freed → Ready ${figures['diskFull.freedToReadyMs']} ms`);
  checkLedgerIn(t, 'diskFull', await ledger());
});

t.comment(`fault suite figures: ${JSON.stringify(figures)}`);
if (process.env.DROVER_FAULT_REPORT) writeFileSync(process.env.DROVER_FAULT_REPORT, JSON.stringify(figures, null, 2) + '\n');
