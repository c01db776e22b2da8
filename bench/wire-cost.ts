// Idle wire cost of one agent (issue 12): a real `drover server`, a real harness kube-apiserver and
// `drover agent run` with its default roles (cluster, fleet, node in one process), the agent dialling
// the server through a counting TCP proxy. After a warm-up (connect-time work: facts, RBAC, fleet
// resume and the minute of eager outbox drains after a reconnect), it counts every byte on the
// agent's sockets for `--minutes` of real time (no fast-forward) and prints bit/s, beside a raw `ws`
// client over TLS to a bare `ws` server pinging at the session PING interval through the same kind of
// proxy, in the same run (the baseline). Payload bytes are TLS records as read from the socket; the
// wire estimate adds 52 bytes of IPv4+TCP headers per chunk and one ACK per chunk.
//   node bench/wire-cost.ts [--minutes 5] [--warmup-s 75]
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';
import { startCluster } from '../test/k8s/harness.ts';
import { agentStatus, allRoles, createToken, drover, startAgent, startServer, waitFor } from '../test/e2e/agent-helpers.ts';
import { PING_INTERVAL_MS } from '../protocol/limits.ts';
import { describeMachine } from './lib/machine.ts';
import { bursts, startCountingProxy, summarise, type WireSample } from './wire/counting-proxy.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, 'warmup-s': { type: 'string', default: '75' } } });
const MEASURE_MS = Number(values.minutes) * 60_000;
const WARMUP_MS = Number(values['warmup-s']) * 1000;
const BUDGET_BPS = 250;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A bare TLS WebSocket pair pinging every `intervalMs` (the client pings, `ws` answers PONG). */
async function rawWsBaseline(certFile: string, keyFile: string, caFile: string, intervalMs: number): Promise<{ samples: WireSample[]; reset(): void; close(): Promise<void> }> {
  const server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => ws.on('error', () => undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const proxy = await startCountingProxy((server.address() as { port: number }).port);
  const ws = new WebSocket(`wss://127.0.0.1:${proxy.port}/`, undefined, { ca: fs.readFileSync(caFile), perMessageDeflate: false });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const timer = setInterval(() => ws.ping(), intervalMs);
  return {
    samples: proxy.samples,
    reset: proxy.reset,
    async close() {
      clearInterval(timer);
      ws.terminate();
      await proxy.close();
      wss.close();
      server.close();
    },
  };
}

async function main(): Promise<void> {
  const m = describeMachine();
  console.log(`machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.kernel}, node ${m.node}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-wire-'));
  const cluster = await startCluster();
  const serverDir = path.join(dir, 'server');
  const agentDir = path.join(dir, 'agent');
  const server = await startServer(serverDir, 0, { DROVER_LOG_LEVEL: 'info' });
  const proxy = await startCountingProxy(server.port);
  let agent: ReturnType<typeof startAgent> | undefined;
  let baseline: Awaited<ReturnType<typeof rawWsBaseline>> | undefined;
  try {
    const token = await createToken(serverDir);
    const reg = await drover(['agent', 'register', '--server', `https://127.0.0.1:${proxy.port}`, '--token', token, '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
    if (reg.exitCode !== 0) throw new Error(`register: ${reg.stderr}`);
    agent = startAgent(agentDir);
    const s = await waitFor('all roles connected', async () => { const x = await agentStatus(agentDir); return allRoles(x, 'connected') ? x : undefined; }, 60_000);
    console.log(`agent connected with roles ${s.roles.map((r) => r.name).join(', ')}; warming up ${WARMUP_MS / 1000} s`);
    const tls = path.join(serverDir, 'tls');
    baseline = await rawWsBaseline(path.join(tls, 'server.crt'), path.join(tls, 'server.key'), path.join(tls, 'ca.crt'), PING_INTERVAL_MS);
    await sleep(WARMUP_MS);
    proxy.reset();
    baseline.reset();
    const t0 = performance.now();
    await sleep(MEASURE_MS);
    const ms = performance.now() - t0;
    const a = summarise(proxy.samples, ms);
    const b = summarise(baseline.samples, ms);
    const after = await agentStatus(agentDir);
    const reconnects = after.roles.filter((r) => r.state !== 'connected').length;
    console.log(`\nmeasured ${(ms / 60_000).toFixed(1)} min of real time; roles still connected: ${reconnects === 0 ? 'all' : `NOT all (${reconnects} down)`}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log('| link | up B | down B | chunks | payload bit/s | wire bit/s (est.) |');
    console.log('|---|---|---|---|---|---|');
    console.log(`| agent, ${s.roles.length} roles | ${a.up} | ${a.down} | ${a.chunks} | ${a.payloadBps.toFixed(0)} | ${a.wireBps.toFixed(0)} |`);
    console.log(`| raw ws over TLS, ping every ${PING_INTERVAL_MS / 1000} s (baseline) | ${b.up} | ${b.down} | ${b.chunks} | ${b.payloadBps.toFixed(0)} | ${b.wireBps.toFixed(0)} |`);
    console.log(`agent / baseline: ${(a.wireBps / b.wireBps).toFixed(1)}× on the wire; budget ${BUDGET_BPS} bit/s: ${a.wireBps <= BUDGET_BPS ? 'PASS' : 'MISS'} (payload only: ${a.payloadBps <= BUDGET_BPS ? 'PASS' : 'MISS'})`);
    // Attribution: bursts by size, with how often they came.
    const groups = new Map<string, { n: number; bytes: number; at: number[] }>();
    for (const x of bursts(proxy.samples)) {
      const k = `${Math.round(x.up / 50) * 50}↑/${Math.round(x.down / 50) * 50}↓`;
      const g = groups.get(k) ?? { n: 0, bytes: 0, at: [] };
      g.n++;
      g.bytes += x.up + x.down;
      g.at.push(x.at);
      groups.set(k, g);
    }
    console.log('\nbursts (bytes up/down rounded to 50, count, mean period, share of the bytes):');
    const total = a.up + a.down;
    for (const [k, g] of [...groups].sort((p, q) => q[1].bytes - p[1].bytes).slice(0, 12)) {
      const period = g.at.length > 1 ? (g.at.at(-1)! - g.at[0]!) / (g.at.length - 1) / 1000 : NaN;
      console.log(`  ${k.padEnd(16)} ×${String(g.n).padStart(4)}  every ~${Number.isNaN(period) ? '-' : period.toFixed(1)} s  ${((g.bytes / total) * 100).toFixed(0)} %`);
    }
  } finally {
    await baseline?.close();
    await agent?.stop();
    await server.proc.stop();
    await proxy.close();
    await cluster.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
