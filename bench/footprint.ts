// Issue 25: what a device's Drover costs in memory and start time, measured on the packaged
// executable. Per role, all roles in one process, and the three roles as three processes (the
// default install before issue 25): RSS, PSS, anonymous and file-backed pages, start → connected.
// Each figure is taken after evicting the executable from the page cache and one warm-up start,
// beside a bare Node single executable (same stripped Node) measured in the same run.
//   node bench/footprint.ts [--dist DIR] [--idle SEC] [--only a,b] [--no-unit-env] [--json]
//   node bench/footprint.ts --apply        also: peak during a 500-object and a 21 MB bundle apply
//   node bench/footprint.ts --soak MIN     soak: server restarted every 5 min, a revision a minute
// Docs and figures: bench/README.md (Footprint).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { droverCacheDir } from '../packaging/node-runtime.ts';
import { startServer, type TestServer } from '../packaging/testing/server.ts';
import { describeMachine } from './lib/machine.ts';
import { median } from './lib/stats.ts';
import { bareSea } from './footprint/bare-sea.ts';
import { evict, startUntilConnected, type Started } from './footprint/process.ts';
import { readMemory, readSmapsByMapping, sumMemory, toMiB, type ProcMemory } from './footprint/proc-memory.ts';
import { unitEnvironment } from './footprint/unit-env.ts';
import { arm64Once } from './footprint/arm64.ts';
import { applyAndSample, bigBundle, manyObjects, type ApplyFigure } from './footprint/apply.ts';
import { startCluster, type TestCluster } from '../test/k8s/harness.ts';

const REPO = path.resolve(import.meta.dirname, '..');

const { values } = parseArgs({
  options: {
    dist: { type: 'string' },
    idle: { type: 'string', default: '60' },
    only: { type: 'string' },
    'no-unit-env': { type: 'boolean' },
    json: { type: 'boolean' },
    apply: { type: 'boolean' },
    soak: { type: 'string' },
    arm64: { type: 'boolean' },
    unit: { type: 'string' },
    profile: { type: 'boolean' },
    starts: { type: 'string', default: '5' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    'Usage: node bench/footprint.ts [--dist DIR] [--idle SEC] [--only SCENARIOS] [--no-unit-env] [--unit FILE] [--apply] [--soak MIN] [--json]\n' +
      '  --dist DIR     npm run package output (default: built into ~/.cache/drover/footprint/dist)\n' +
      '  --idle SEC     connected and idle this long before reading memory (default 60)\n' +
      '  --only LIST    scenarios: bare,bare-tls,cluster,node,fleet,all,split\n' +
      '  --unit FILE    unit whose Environment= the agents get (default: the installed agent unit)\n' +
      '  --no-unit-env  run the agents without the unit environment (GLIBC_TUNABLES…)\n' +
      '  --profile      also print the resident memory per mapping of each scenario\n' +
      '  --starts N     start → connected is the median of N starts (default 5)\n' +
      '  --apply        peak RSS while applying a 500-object and a ~21 MB bundle (real kube-apiserver)\n' +
      '  --soak MIN     RSS growth over MIN minutes; server restarted every 5 min, a revision a minute\n' +
      '  --arm64        also the arm64 executable once under qemu (needs it in --dist)\n' +
      'Example:\n  node bench/footprint.ts --idle 30 --only bare-tls,all,split\n',
  );
  process.exit(0);
}

const cache = droverCacheDir();
const idleMs = Number(values.idle) * 1000;
const starts = Math.max(1, Number(values.starts));

function distDir(): string {
  if (values.dist) return path.resolve(values.dist);
  const out = path.join(cache, 'footprint', 'dist');
  const arches = values.arm64 ? ['--arch', 'amd64', '--arch', 'arm64'] : ['--arch', 'amd64'];
  const res = spawnSync(process.execPath, [path.join(REPO, 'packaging', 'build.ts'), ...arches, '--no-airgap', '--out', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (res.status !== 0) throw new Error(`npm run package failed:\n${res.stdout}`);
  process.stderr.write(res.stdout);
  return out;
}

const dist = distDir();
fs.mkdirSync(path.join(cache, 'footprint'), { recursive: true });
const work = fs.mkdtempSync(path.join(cache, 'footprint', 'run-'));
const agentExe = path.join(work, 'drover');
const serverExe = path.join(work, 'drover-server');
// The server runs from its own copy: pages it maps would stay cached whatever the agent's evict does.
fs.copyFileSync(path.join(dist, 'drover-linux-amd64'), agentExe);
fs.copyFileSync(path.join(dist, 'drover-linux-amd64'), serverExe);
fs.chmodSync(agentExe, 0o755);
fs.chmodSync(serverExe, 0o755);
const bare = path.join(work, 'bare-sea');
fs.copyFileSync(bareSea(REPO, cache), bare);

const defaultUnit = ['drover-agent.service', 'drover-fleet-agent.service'].map((u) => path.join(REPO, 'systemd', u)).find((f) => fs.existsSync(f))!;
const unitEnv = values['no-unit-env'] ? {} : unitEnvironment(values.unit ?? defaultUnit);
const cacheDir = path.join(work, 'cache');
fs.mkdirSync(cacheDir, { mode: 0o700 });
const baseEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root', DROVER_CACHE_DIR: cacheDir, DROVER_LOG_LEVEL: 'info' };

let server: TestServer | undefined;
async function ensureServer(): Promise<TestServer> {
  server ??= await startServer(serverExe, path.join(work, 'server'));
  return server;
}

function register(srv: TestServer, name: string): string {
  const dataDir = path.join(work, `agent-${name}`);
  const res = spawnSync(agentExe, ['agent', 'register', '--server', srv.url, '--token', srv.token(), '--name', name, '--data-dir', dataDir], { env: baseEnv, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`register ${name}: ${res.stderr}`);
  return dataDir;
}

interface Figure {
  scenario: string;
  processes: number;
  connectedMs: number;
  /** CPU ms until connected (summed over the processes), median of the starts. */
  connectedCpuMs: number;
  memory: ProcMemory;
  /** With --profile: resident MiB per mapping of the first process, largest first. */
  profile?: [string, number][];
}

/** One launch of a scenario: its processes, started together. */
type Launch = () => Promise<Started[]>;

async function measure(scenario: string, exe: string, launch: Launch): Promise<Figure> {
  evict(exe);
  for (const p of await launch()) await p.stop(); // the warm-up start
  const procs = await launch();
  await sleep(idleMs);
  const memory = sumMemory(procs.map((p) => readMemory(p.pid)));
  const profile = values.profile
    ? [...readSmapsByMapping(procs[0]!.pid)].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]): [string, number] => [k.replace(work, '.'), toMiB(v)])
    : undefined;
  const times = [Math.max(...procs.map((p) => p.connectedMs))];
  const cpu = [procs.reduce((n, p) => n + p.connectedCpuMs, 0)];
  for (const p of procs) await p.stop();
  // start → connected is the median of several starts: one run on a shared machine is noise.
  for (let i = 1; i < starts; i++) {
    const again = await launch();
    times.push(Math.max(...again.map((p) => p.connectedMs)));
    cpu.push(again.reduce((n, p) => n + p.connectedCpuMs, 0));
    for (const p of again) await p.stop();
  }
  const connectedMs = median(times);
  const connectedCpuMs = median(cpu);
  return { scenario, processes: procs.length, connectedMs, connectedCpuMs, memory, ...(profile ? { profile } : {}) };
}

const agentEnv = { ...baseEnv, ...unitEnv };
function agentLaunch(dataDir: string, roleSets: readonly string[]): Launch {
  return () => Promise.all(roleSets.map((roles) => startUntilConnected(agentExe, ['agent', 'run', '--roles', roles, '--data-dir', dataDir], agentEnv, roles.split(',').length)));
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stderr.write(`footprint: ${sig}, cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

const SCENARIOS = ['bare', 'bare-tls', 'cluster', 'node', 'fleet', 'all', 'split'] as const;
const wanted = new Set(values.only ? values.only.split(',') : SCENARIOS);
const figures: Figure[] = [];
const applies: ApplyFigure[] = [];
interface SoakFigure {
  minutes: number;
  serverRestarts: number;
  revisions: number;
  /** [minute, RSS MiB] samples; growth is the last minus the first after the warm-up minute. */
  samples: [number, number][];
  growthMiB: number;
}
let soak: SoakFigure | undefined;
let cluster: TestCluster | undefined;
let arm64: { rssMiB: number } | undefined;
let idleWithKubeconfig: ProcMemory | undefined;

/** The default install (all roles, one process) registered with a real cluster's kubeconfig. */
async function clusterAgent(srv: TestServer, name: string): Promise<Started> {
  cluster ??= await startCluster({ nodes: 1 });
  const dataDir = path.join(work, `agent-${name}`);
  const res = spawnSync(agentExe, ['agent', 'register', '--server', srv.url, '--token', srv.token(), '--name', name, '--labels', `footprint=${name}`, '--kubeconfig', cluster.kubeconfig, '--data-dir', dataDir], { env: baseEnv, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`register ${name}: ${res.stderr}`);
  evict(agentExe);
  return startUntilConnected(agentExe, ['agent', 'run', '--data-dir', dataDir], agentEnv, 3);
}
const machine = describeMachine();
process.stderr.write(`footprint: ${dist}, idle ${idleMs / 1000} s, unit env ${JSON.stringify(unitEnv)}\n`);
try {
  const srv = await ensureServer();
  const ca = path.join(srv.dataDir, 'tls', 'ca.crt');
  for (const s of SCENARIOS) {
    if (!wanted.has(s)) continue;
    process.stderr.write(`footprint: ${s}…\n`);
    if (s === 'bare') figures.push(await measure(s, bare, () => Promise.all([startUntilConnected(bare, [], baseEnv, 1)])));
    else if (s === 'bare-tls') figures.push(await measure(s, bare, () => Promise.all([startUntilConnected(bare, [], { ...baseEnv, BARE_URL: srv.url, BARE_CA: ca }, 1)])));
    else if (s === 'split') figures.push(await measure(s, agentExe, agentLaunch(register(srv, s), ['cluster', 'node', 'fleet'])));
    else if (s === 'all') figures.push(await measure(s, agentExe, agentLaunch(register(srv, s), ['cluster,node,fleet'])));
    else figures.push(await measure(s, agentExe, agentLaunch(register(srv, s), [s])));
  }
  if (values.apply) {
    process.stderr.write('footprint: apply (real kube-apiserver)…\n');
    const agent = await clusterAgent(srv, 'apply');
    await sleep(idleMs);
    // The default install as on a device with a cluster: idle with a (YAML) kubeconfig read at start.
    idleWithKubeconfig = readMemory(agent.pid);
    const common = { adminExe: serverExe, serverDataDir: srv.dataDir, env: baseEnv, agentPid: agent.pid, idleAfterMs: idleMs, target: 'footprint=apply' };
    const small = path.join(work, 'bundle-500');
    applies.push(await applyAndSample({ ...common, dir: small, name: 'objects-500', shape: manyObjects(small) }));
    const big = path.join(work, 'bundle-21mb');
    applies.push(await applyAndSample({ ...common, dir: big, name: 'bytes-21mb', shape: bigBundle(big) }));
    await agent.stop();
  }
  if (values.soak) {
    soak = await runSoak(Number(values.soak));
  }
  if (values.arm64) {
    process.stderr.write('footprint: arm64 under qemu…\n');
    arm64 = await arm64Once(path.join(dist, 'drover-linux-arm64'), srv, idleMs);
  }
} finally {
  await cleanup();
}

/** Stops what the run started (also on Ctrl-C): the cluster, the server, the scratch directory. */
async function cleanup(): Promise<void> {
  await cluster?.stop();
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
}

/**
 * RSS swings with every reconcile pass, so growth compares the lowest sample of the first two
 * minutes after the first (start-up) minute with the lowest of the last two minutes. Pure.
 */
function growth(samples: readonly [number, number][]): number {
  const end = samples[samples.length - 1]?.[0] ?? 0;
  const low = (xs: readonly [number, number][]): number => Math.min(...xs.map(([, v]) => v));
  const first = samples.filter(([m]) => m >= 1 && m < 3);
  const last = samples.filter(([m]) => m > end - 2);
  if (first.length === 0 || last.length === 0) return NaN;
  return Math.round((low(last) - low(first)) * 10) / 10;
}

/**
 * Soak: the default install against a real cluster for `minutes`; the server restarted every 5
 * minutes (same port, agents reconnect), a new bundle revision every minute, RSS sampled every 10 s.
 */
async function runSoak(minutes: number): Promise<SoakFigure> {
  process.stderr.write(`footprint: soak ${minutes} min…\n`);
  let srv = await ensureServer();
  const agent = await clusterAgent(srv, 'soak');
  const listen = new URL(srv.url).host;
  const dir = path.join(work, 'bundle-soak');
  const samples: [number, number][] = [];
  const t0 = Date.now();
  let restarts = 0;
  let revisions = 0;
  for (let tick = 0; (Date.now() - t0) / 60_000 < minutes; tick++) {
    const minute = (Date.now() - t0) / 60_000;
    if (tick % 6 === 0) {
      // Its own namespace: the fleet role lists live objects per kind and namespace, so the
      // --apply bundles' 20 MB of ConfigMaps in `default` would be read on every pass.
      manyObjects(dir, 50 + (revisions % 5), 'footprint-soak');
      spawnSync(serverExe, ['bundle', 'apply', dir, '--name', 'soak', '--target', 'footprint=soak', '--data-dir', srv.dataDir], { env: baseEnv });
      revisions++;
    }
    if (tick > 0 && tick % 30 === 0) {
      await srv.stop();
      server = undefined;
      srv = await startServer(serverExe, path.join(work, 'server'), listen);
      server = srv;
      restarts++;
    }
    samples.push([Math.round(minute * 10) / 10, toMiB(readMemory(agent.pid).rss)]);
    await sleep(10_000);
  }
  await agent.stop();
  return { minutes, serverRestarts: restarts, revisions, samples, growthMiB: growth(samples) };
}

const baseline = figures.find((f) => f.scenario === 'bare-tls') ?? figures.find((f) => f.scenario === 'bare');
if (values.json) {
  process.stdout.write(JSON.stringify({ machine, dist, idleSeconds: idleMs / 1000, unitEnv, figures, idleWithKubeconfig, applies, soak, arm64 }, null, 2) + '\n');
} else {
  const sizes = fs.existsSync(path.join(dist, 'sizes.json')) ? (JSON.parse(fs.readFileSync(path.join(dist, 'sizes.json'), 'utf8')) as { artifact: string; rawBytes: number; gzipBytes: number }[]) : [];
  const lines = [
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.kernel}, load ${machine.loadAtStart.toFixed(2)} at start (${os.loadavg()[0]?.toFixed(2)} at end)`,
    `executable: ${sizes.map((s) => `${s.artifact} ${toMiB(s.rawBytes)} MiB raw, ${toMiB(s.gzipBytes)} MiB gzip`).join('; ')}`,
    `idle ${idleMs / 1000} s after connecting; page cache evicted + one warm-up start before each figure; start → connected: median of ${starts} starts; unit env ${JSON.stringify(unitEnv)}`,
    '',
    'scenario   procs   RSS    PSS  RssAnon RssFile PssAnon PssFile  start→connected (CPU)  RSS/baseline',
  ];
  for (const f of figures) {
    const m = f.memory;
    const ratio = baseline ? `${(m.rss / baseline.memory.rss).toFixed(2)}× ${baseline.scenario}` : '';
    lines.push(
      `${f.scenario.padEnd(10)} ${String(f.processes).padStart(5)} ${[m.rss, m.pss, m.rssAnon, m.rssFile, m.pssAnon, m.pssFile].map((b) => toMiB(b).toFixed(1).padStart(7)).join('')}  ${f.connectedMs.toFixed(0).padStart(9)} ms (${f.connectedCpuMs.toFixed(0)} ms)  ${ratio}`,
    );
  }
  for (const f of figures) if (f.profile) lines.push('', `${f.scenario}: resident MiB by mapping: ${f.profile.map(([k, v]) => `${k} ${v}`).join('; ')}`);
  if (idleWithKubeconfig) {
    const m = idleWithKubeconfig;
    lines.push('', `all roles with a kubeconfig (real kube-apiserver), idle ${idleMs / 1000} s before the applies: RSS ${toMiB(m.rss).toFixed(1)}, PSS ${toMiB(m.pss).toFixed(1)}, anon ${toMiB(m.rssAnon).toFixed(1)}, file ${toMiB(m.rssFile).toFixed(1)} MiB`);
  }
  if (applies.length > 0) {
    lines.push('', 'apply (all roles, one process, real kube-apiserver)   objects   MiB   apply→ready   peak RSS   VmHWM   RSS after');
    for (const a of applies) {
      lines.push(`${a.bundle.padEnd(52)} ${String(a.objects).padStart(7)} ${toMiB(a.bytes).toFixed(1).padStart(5)} ${(a.applyMs / 1000).toFixed(1).padStart(10)} s ${a.peakRssMiB.toFixed(1).padStart(9)} ${a.hwmMiB.toFixed(1).padStart(7)} ${a.afterMiB.toFixed(1).padStart(10)}`);
    }
  }
  if (soak) {
    lines.push('', `soak ${soak.minutes} min: ${soak.serverRestarts} server restarts, ${soak.revisions} bundle revisions; RSS growth ${soak.growthMiB} MiB (lowest sample of minutes 1–3 against the last two minutes)`);
    lines.push(`  samples (minute: MiB): ${soak.samples.map(([m, v]) => `${m}: ${v}`).join(', ')}`);
  }
  if (arm64) lines.push('', `arm64 under qemu-aarch64-static, all roles in one process, idle ${idleMs / 1000} s: ${arm64.rssMiB} MiB RSS (the qemu process, emulator included)`);
  lines.push('', 'MiB; "split" is the sum over its three processes (PSS shares their common executable pages).');
  process.stdout.write(lines.join('\n') + '\n');
}
