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
import { bareSea } from './footprint/bare-sea.ts';
import { evict, startUntilConnected, type Started } from './footprint/process.ts';
import { readMemory, readSmapsByMapping, sumMemory, toMiB, type ProcMemory } from './footprint/proc-memory.ts';
import { unitEnvironment } from './footprint/unit-env.ts';

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
    unit: { type: 'string' },
    profile: { type: 'boolean' },
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
      'Example:\n  node bench/footprint.ts --idle 30 --only bare-tls,all,split\n',
  );
  process.exit(0);
}

const cache = droverCacheDir();
const idleMs = Number(values.idle) * 1000;

function distDir(): string {
  if (values.dist) return path.resolve(values.dist);
  const out = path.join(cache, 'footprint', 'dist');
  const res = spawnSync(process.execPath, [path.join(REPO, 'packaging', 'build.ts'), '--arch', 'amd64', '--no-airgap', '--out', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
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
  const connectedMs = Math.max(...procs.map((p) => p.connectedMs));
  for (const p of procs) await p.stop();
  return { scenario, processes: procs.length, connectedMs, memory, ...(profile ? { profile } : {}) };
}

const agentEnv = { ...baseEnv, ...unitEnv };
function agentLaunch(dataDir: string, roleSets: readonly string[]): Launch {
  return () => Promise.all(roleSets.map((roles) => startUntilConnected(agentExe, ['agent', 'run', '--roles', roles, '--data-dir', dataDir], agentEnv, roles.split(',').length)));
}

const SCENARIOS = ['bare', 'bare-tls', 'cluster', 'node', 'fleet', 'all', 'split'] as const;
const wanted = new Set(values.only ? values.only.split(',') : SCENARIOS);
const figures: Figure[] = [];
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
} finally {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
}

const baseline = figures.find((f) => f.scenario === 'bare-tls') ?? figures.find((f) => f.scenario === 'bare');
if (values.json) {
  process.stdout.write(JSON.stringify({ machine, dist, idleSeconds: idleMs / 1000, unitEnv, figures }, null, 2) + '\n');
} else {
  const sizes = fs.existsSync(path.join(dist, 'sizes.json')) ? (JSON.parse(fs.readFileSync(path.join(dist, 'sizes.json'), 'utf8')) as { artifact: string; rawBytes: number; gzipBytes: number }[]) : [];
  const lines = [
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.kernel}, load ${machine.loadAtStart.toFixed(2)} at start (${os.loadavg()[0]?.toFixed(2)} at end)`,
    `executable: ${sizes.map((s) => `${s.artifact} ${toMiB(s.rawBytes)} MiB raw, ${toMiB(s.gzipBytes)} MiB gzip`).join('; ')}`,
    `idle ${idleMs / 1000} s after connecting; page cache evicted + one warm-up start before each figure; unit env ${JSON.stringify(unitEnv)}`,
    '',
    'scenario   procs   RSS    PSS  RssAnon RssFile PssAnon PssFile  start→connected  RSS/baseline',
  ];
  for (const f of figures) {
    const m = f.memory;
    const ratio = baseline ? `${(m.rss / baseline.memory.rss).toFixed(2)}× ${baseline.scenario}` : '';
    lines.push(
      `${f.scenario.padEnd(10)} ${String(f.processes).padStart(5)} ${[m.rss, m.pss, m.rssAnon, m.rssFile, m.pssAnon, m.pssFile].map((b) => toMiB(b).toFixed(1).padStart(7)).join('')}  ${f.connectedMs.toFixed(0).padStart(9)} ms      ${ratio}`,
    );
  }
  for (const f of figures) if (f.profile) lines.push('', `${f.scenario}: resident MiB by mapping: ${f.profile.map(([k, v]) => `${k} ${v}`).join('; ')}`);
  lines.push('', 'MiB; "split" is the sum over its three processes (PSS shares their common executable pages).');
  process.stdout.write(lines.join('\n') + '\n');
}
