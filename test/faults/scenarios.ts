// The fault suite's scenarios (issue 14), run by fault-suite.test.ts inside a network namespace of
// their own. Real processes: a harness kube-apiserver, `drover server`, `drover agent run --roles
// fleet`. The agent reaches the server at 127.0.0.2 (the faulted path), the test at 127.0.0.1.
// For each scenario: convergence to the latest revision on the cluster, the bundle Ready at the
// server, and the ledger: every status the agent recorded in its outbox stored by the server
// exactly once and in order. Figures (heal → Connected, heal → Ready) are printed as TAP comments
// and written to $DROVER_FAULT_REPORT when set. Waits poll real state; nothing asserts on time.
import t, { type Test } from 'tap';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { drover, Proc, startAgent, waitFor } from '../e2e/agent-helpers.ts';
import { fleetServerEnv, FLEET_AGENT_ENV } from '../e2e/fleet-helpers.ts';
import { checkLedger, type LedgerResult } from './ledger.ts';
import { AGENT_PATH_ADDR, NetFaults } from './net-faults.ts';

if (process.env.DROVER_FAULT_NETNS !== '1') throw new Error('run test/faults/fault-suite.test.ts, which moves this into a network namespace');

const FULL = process.env.DROVER_FAULTS === 'full';
const PLAN = FULL
  ? { partitionMs: 120_000, shortPartitions: 10, shortPartitionMs: 5_000, lossRevisions: 10, apiDownMs: 120_000 }
  : { partitionMs: 20_000, shortPartitions: 2, shortPartitionMs: 3_000, lossRevisions: 3, apiDownMs: 15_000 };
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

const cluster = await startCluster({ nodes: 1 });
t.teardown(() => cluster.stop());
const dir = t.testdir();
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
async function applyRevision(): Promise<number> {
  revision++;
  const d = path.join(dir, `bundle-${revision}`);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  let yaml = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: faults}\n---\n';
  for (let i = 0; i < OBJECTS; i++) yaml += `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}, namespace: faults}\ndata: {v: "rev-${revision}"}\n---\n`;
  writeFileSync(path.join(d, 'all.yaml'), yaml);
  const r = await drover(['bundle', 'apply', d, '--name', 'web', '--data-dir', serverDir]);
  if (r.exitCode !== 0) throw new Error(`bundle apply: ${r.stderr}`);
  return revision;
}

interface BundleStatus { revision: string; clusters: { id: string; state: string; message: string }[] }
/** The bundle Ready at the server for the latest revision, and the cluster holding it. */
async function converged(): Promise<boolean> {
  const r = await admin('/v1/fleet/bundles/web');
  const s = r.json as BundleStatus | undefined;
  if (r.status !== 200 || s?.clusters.length !== 1 || s.clusters[0]?.state !== 'Ready') return false;
  const values = await kubectl(['-n', 'faults', 'get', 'configmaps', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.data.v}{"\\n"}{end}']);
  const got = values.out.split('\n').filter((l) => /^c\d+=/.test(l));
  return got.length === OBJECTS && got.every((l) => l.endsWith(`=rev-${revision}`));
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

/** Error-level agent log lines since `from`, counted by message. */
function agentErrorsSince(from: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of agent.logs()) {
    if (Number(l.time ?? 0) < from || Number(l.level ?? 0) < 50) continue;
    const msg = String(l.msg);
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  return counts;
}

await t.test('baseline: the first revision converges', async (t) => {
  await applyRevision();
  await waitFor('convergence', converged, 120_000);
  checkLedgerIn(t, 'baseline', await ledger());
});

await t.test(`partition of ${PLAN.partitionMs / 1000} s with revisions and drift during it, then heal`, async (t) => {
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
  for (const [msg, n] of errors) t.ok(n <= 2, `"${msg}" logged ${n} time(s) during the partition (once per state change)`);
  checkLedgerIn(t, 'partition', await ledger());
});

await t.test(`${PLAN.shortPartitions} partitions that break the tunnel: heal → Connected and → Ready`, async (t) => {
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

await t.test(`30 % loss and 300 ms delay both ways while ${PLAN.lossRevisions} revisions are applied`, async (t) => {
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

await t.test('server kill -9 during delivery, restart on the same port', async (t) => {
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

await t.test(`kube-apiserver stopped for ${PLAN.apiDownMs / 1000} s while the tunnel is up`, async (t) => {
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

t.comment(`fault suite figures: ${JSON.stringify(figures)}`);
if (process.env.DROVER_FAULT_REPORT) writeFileSync(process.env.DROVER_FAULT_REPORT, JSON.stringify(figures, null, 2) + '\n');
