// Issue 4 benchmark: idle tunnels held by one `drover server` process, its memory per idle tunnel at
// 1k/5k/10k agents, and how long N agents take to reconnect after a server restart. Baseline from
// the same run: a bare `ws` server over TLS holding the same number of idle WebSockets.
// Usage: node bench/tunnels.ts [--steps 1000,5000,10000]   (figures, not tests; see bench/README.md)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { fetchCa } from '../agents/common/server-api.ts';
import { transportFor } from '../agents/common/https-client.ts';
import { TunnelClient } from '../agents/common/tunnel-client.ts';
import { silentLogger } from '../agents/common/logger.ts';
import { createToken, startServer, waitFor, type ServerProc } from '../test/e2e/agent-helpers.ts';
import { describeMachine, busyWarning } from './lib/machine.ts';
import { rssBytes, perConnection } from './lib/rss.ts';
import { processCpuMs } from './lib/cpu.ts';
import { registerAgents } from './lib/register-agents.ts';

const argSteps = process.argv.indexOf('--steps');
const STEPS = (argSteps > 0 ? String(process.argv[argSteps + 1]) : '1000,5000,10000').split(',').map(Number);
const TOTAL = Math.max(...STEPS);
const SETTLE_MS = 3000;
/** Server CPU is sampled over this window once a step's tunnels are all up and idle. */
const IDLE_MS = 10_000;
// DROVER_BENCH_SERVER_CPU_PROF=DIR: a V8 CPU profile of the (first) server process, written when it stops.
const PROF = process.env.DROVER_BENCH_SERVER_CPU_PROF;
const SERVER_ENV: Record<string, string> = { DROVER_LOG_LEVEL: 'info', ...(PROF ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${PROF}` } : {}) };

/** Share of one core the process spent over `ms` (user + system, /proc; 10 ms resolution). */
async function cpuShare(pid: number, ms: number): Promise<number> {
  const a = processCpuMs(pid);
  const t = performance.now();
  await sleep(ms);
  return (processCpuMs(pid) - a) / (performance.now() - t);
}
const KiB = 1024;

function serverPid(s: ServerProc): number {
  const pid = s.proc.child.pid;
  if (pid === undefined) throw new Error('server has no pid');
  return pid;
}

async function baselineWss(certFile: string, keyFile: string, steps: number[], ca: string): Promise<Map<number, number>> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'lib', 'wss-baseline.ts'), certFile, keyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (b: Buffer) => resolve((JSON.parse(b.toString().split('\n')[0] ?? '{}') as { port: number }).port));
      child.once('exit', (c) => reject(new Error(`baseline exited ${c}`)));
    });
    await sleep(SETTLE_MS);
    const pid = child.pid ?? 0;
    const before = rssBytes(pid);
    const sockets: WebSocket[] = [];
    const per = new Map<number, number>();
    for (const step of steps) {
      while (sockets.length < step) {
        const batch = Array.from({ length: Math.min(200, step - sockets.length) }, () => new WebSocket(`wss://127.0.0.1:${port}/`, { ca, perMessageDeflate: false }));
        await Promise.all(batch.map((ws) => new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); })));
        sockets.push(...batch);
      }
      await sleep(SETTLE_MS);
      per.set(step, perConnection(before, rssBytes(pid), step));
    }
    for (const ws of sockets) ws.terminate();
    return per;
  } finally {
    child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const dir = mkdtempSync(path.join(tmpdir(), 'drover-bench-tunnels-'));
  let server = await startServer(path.join(dir, 'server'), 0, SERVER_ENV);
  const clients: TunnelClient[] = [];
  try {
    const token = (await createToken(server.dataDir, ['--uses', '0', '--labels', 'bench=tunnels'])).split('::')[1] ?? '';
    const transport = transportFor(server.url, {});
    const ca = (await fetchCa(server.url, transport)).pem;
    const t0 = performance.now();
    const ids = await registerAgents(server.url, ca, token, { from: 0, to: TOTAL, role: 'cluster', prefix: 'b' });
    const registerMs = performance.now() - t0;
    await sleep(SETTLE_MS);
    const before = rssBytes(serverPid(server));
    const log = silentLogger();
    const rows: string[] = [];
    const drover = new Map<number, number>();
    for (const step of STEPS) {
      const start = clients.length;
      for (let i = start; i < step; i++) {
        const id = ids[i]!;
        const c = new TunnelClient({
          serverUrl: server.url, role: 'cluster', agentId: id.agentId, agentVersion: 'bench', credential: () => id.credential, ca, agent: transport.agent,
          backoff: { baseMs: 250, capMs: 5_000, stableAfterMs: 30_000, maxExponent: 30 }, random: Math.random, now: Date.now, logger: log,
          facts: async () => ({ hostname: id.agentId, os: 'linux', arch: 'amd64', agentVersion: 'bench' }),
        });
        clients.push(c);
        c.start();
      }
      const connectedAt = performance.now();
      await waitFor(`${step} tunnels`, () => clients.every((c) => c.state.state === 'connected'), 600_000);
      const connectMs = performance.now() - connectedAt;
      await sleep(SETTLE_MS);
      const rss = rssBytes(serverPid(server));
      drover.set(step, perConnection(before, rss, step));
      const idle = await cpuShare(serverPid(server), IDLE_MS);
      rows.push(`${String(step).padStart(6)} idle tunnels: server RSS ${(rss / 1024 / KiB).toFixed(0)} MiB, ${(perConnection(before, rss, step) / KiB).toFixed(1)} KiB per tunnel; ${step - start} connected in ${(connectMs / 1000).toFixed(1)} s; server CPU while idle ${(idle * 100).toFixed(1)} % of one core (${IDLE_MS / 1000} s)`);
      console.error(rows.at(-1));
    }
    // Reconnect storm: restart the server in place; every agent reconnects on its own backoff.
    await server.proc.stop('SIGTERM');
    await waitFor('clients to notice', () => clients.every((c) => c.state.state !== 'connected'), 120_000);
    server = await startServer(server.dataDir, server.port, SERVER_ENV);
    const back = performance.now();
    await waitFor(`${TOTAL} reconnected`, () => clients.every((c) => c.state.state === 'connected' && c.connections >= 2), 900_000);
    const reconnectMs = performance.now() - back;
    // Free the client sockets first: the baseline needs as many file descriptors again.
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    const baseline = await baselineWss(path.join(server.dataDir, 'tls', 'server.crt'), path.join(server.dataDir, 'tls', 'server.key'), STEPS, ca);

    console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`);
    console.log(`registered ${TOTAL} agents in ${(registerMs / 1000).toFixed(1)} s (${(registerMs / TOTAL).toFixed(2)} ms each)`);
    for (const r of rows) console.log(r);
    console.log('\nmemory per idle tunnel vs a bare ws server over TLS holding the same idle WebSockets (same run):');
    for (const step of STEPS) {
      const d = drover.get(step) ?? 0;
      const b = baseline.get(step) ?? 0;
      console.log(`${String(step).padStart(6)}: drover ${(d / KiB).toFixed(1)} KiB, raw wss ${(b / KiB).toFixed(1)} KiB, ratio ${b > 0 ? (d / b).toFixed(2) : 'n/a'}x`);
    }
    console.log(`\nreconnect after a server restart: all ${TOTAL} agents connected again ${(reconnectMs / 1000).toFixed(1)} s after the server listened (client backoff cap 5 s, full jitter)`);
    const warn = busyWarning(machine.cores, machine.loadAtStart, (await import('node:os')).loadavg()[0] ?? 0);
    if (warn) console.log(warn);
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
    await server.proc.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
