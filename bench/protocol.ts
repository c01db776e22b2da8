// The protocol benchmark of issue 3, one command: `node bench/protocol.ts` (see bench/README.md).
// Measures raw TCP, raw WebSocket and direct HTTP baselines, the same shapes through the Drover
// tunnel, and rancher/remotedialer (Go) on the same payloads, then prints every figure with its
// same-run baseline, the ratio, and the budget verdict. Baselines and tunnel figures run in
// interleaved rounds, so a change in background load during the run hits both alike.
// Benchmarks are not tests: tap never runs this; test/integration/bench-smoke.test.ts checks
// its pure helpers.

import net from 'node:net';
import os from 'node:os';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import type { Duplex } from 'node:stream';
import { BENCH, QUICK } from './config.ts';
import type { BenchConfig } from './config.ts';
import { busyWarning, describeMachine } from './lib/machine.ts';
import { startPeer } from './lib/peer-process.ts';
import {
  receiveThroughDuplex,
  receiveThroughWebSocket,
  sendThroughDuplex,
  sendThroughWebSocket,
  timeConcurrent,
} from './lib/throughput.ts';
import type { ThroughputResult, Transfer } from './lib/throughput.ts';
import { directHttp, emptyRaw, measureLatency, measureLatencyInto, POOL_SOCKETS, summarizeRaw } from './lib/latency.ts';
import type { RawLatency, RequestFn } from './lib/latency.ts';
import { StreamAgent } from './lib/stream-agent.ts';
import { buildRemotedialerBench, runRemotedialerBench } from './lib/remotedialer.ts';
import { buildRows } from './lib/rows.ts';
import type { Results, ThroughputResults } from './lib/rows.ts';
import { median, mibPerSecond } from './lib/stats.ts';
import { cpuMeter, cpuMsPerGiB } from './lib/cpu.ts';
import { renderTable } from './lib/format.ts';
import { filler } from './lib/sink.ts';
import { loadBinding, TARGETS } from './tunnel/harness.ts';
import type { TunnelServerSide } from './tunnel/harness.ts';
import type { PeerReport } from './peer/agent.ts';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: process.env.DROVER_BENCH_JSON === '1' },
    quick: { type: 'boolean', default: process.env.DROVER_BENCH_QUICK === '1' },
    'skip-go': { type: 'boolean', default: process.env.DROVER_BENCH_SKIP_GO === '1' },
    'agent-cpu-prof': { type: 'string', default: process.env.DROVER_BENCH_AGENT_CPU_PROF },
    /** Run one part only (throughput, latency, go) to re-measure it in a quiet moment. */
    only: { type: 'string', default: process.env.DROVER_BENCH_ONLY },
  },
});
const PARTS = ['throughput', 'latency', 'go'] as const;
if (flags.only !== undefined && !(PARTS as readonly string[]).includes(flags.only)) {
  process.stderr.write(`bench: --only must be one of ${PARTS.join(', ')}, got ${flags.only}\n`);
  process.exit(2);
}
const runs = (part: (typeof PARTS)[number]): boolean => flags.only === undefined || flags.only === part;
const cfg: BenchConfig = flags.quick ? QUICK : BENCH;
const progress = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function tcp(port: number): Promise<Duplex> {
  const s = net.connect(port, '127.0.0.1');
  s.setNoDelay(true);
  await once(s, 'connect');
  return s;
}

/** Stream errors nobody else handled, e.g. a RESET arriving after a transfer completed: counted
 *  and reported instead of crashing the run. */
const streamErrors: string[] = [];
function watchErrors<T extends Duplex>(s: T): T {
  s.on('error', (err: Error & { code?: string }) => {
    if (s.listenerCount('error') === 1) streamErrors.push(`${err.code ?? 'ERROR'}: ${err.message}`);
  });
  return s;
}

/** Times one transfer through a freshly opened Duplex (opening included, as in the Go program). */
async function timeOne(open: () => Promise<Duplex>, transfer: Transfer, bytes: number): Promise<number> {
  const start = performance.now();
  const s = await open();
  try {
    await transfer(s, bytes, cfg.chunkBytes);
  } finally {
    s.destroy();
  }
  return performance.now() - start;
}

interface Measurement {
  readonly bytes: number;
  readonly streams: number;
  readonly run: () => Promise<number>;
}

/** Every measurement once per round, in turn; the median round per measurement is kept, for
 *  wall time and for the CPU both processes spent (`pids`: the agent child). */
async function interleaved<K extends string>(
  plan: Record<K, Measurement>,
  rounds: number,
  pids: readonly number[],
): Promise<Record<K, ThroughputResult>> {
  const keys = Object.keys(plan) as K[];
  const times = new Map<K, number[]>(keys.map((k) => [k, []]));
  const cpu = new Map<K, number[]>(keys.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const k of keys) {
      const meter = cpuMeter(pids);
      times.get(k)?.push(await plan[k].run());
      cpu.get(k)?.push(meter());
    }
  }
  const out = {} as Record<K, ThroughputResult>;
  for (const k of keys) {
    const ms = median(times.get(k) ?? []);
    const { bytes, streams } = plan[k];
    out[k] = { bytes, streams, ms, mibPerSecond: mibPerSecond(bytes, ms), cpuMsPerGiB: cpuMsPerGiB(median(cpu.get(k) ?? []), bytes) };
  }
  return out;
}

function throughputPlan(p: PeerReport, tunnel: TunnelServerSide | undefined): Record<string, Measurement> {
  const one = (open: () => Promise<Duplex>, transfer: Transfer): Measurement => ({
    bytes: cfg.oneStreamBytes,
    streams: 1,
    run: () => timeOne(open, transfer, cfg.oneStreamBytes),
  });
  const many = (open: () => Promise<Duplex>): Measurement => ({
    bytes: cfg.concurrentBytes,
    streams: cfg.streams,
    run: () => timeConcurrent(cfg.streams, cfg.concurrentBytes, cfg.chunkBytes, open, sendThroughDuplex),
  });
  const plan: Record<string, Measurement> = {
    tcpUp: one(() => tcp(p.tcpSink), sendThroughDuplex),
    tcpDown: one(() => tcp(p.tcpSource), receiveThroughDuplex),
    wsServerToClient: {
      bytes: cfg.oneStreamBytes,
      streams: 1,
      run: () => receiveThroughWebSocket(`ws://127.0.0.1:${p.wsSource}`, cfg.oneStreamBytes),
    },
    wsClientToServer: {
      bytes: cfg.oneStreamBytes,
      streams: 1,
      run: () => sendThroughWebSocket(`ws://127.0.0.1:${p.wsSink}`, cfg.oneStreamBytes, cfg.chunkBytes),
    },
    tcp100: many(() => tcp(p.tcpSink)),
  };
  if (tunnel === undefined) return plan;
  const open = (target: string) => () => tunnel.openStream(target).then(watchErrors);
  return {
    ...plan,
    tunnelUp: one(open(TARGETS.sink), sendThroughDuplex),
    tunnelDown: one(open(TARGETS.source), receiveThroughDuplex),
    tunnel100: many(open(TARGETS.sink)),
    relayUp: one(open(TARGETS.tcp(p.tcpSink)), sendThroughDuplex),
    relayDown: one(open(TARGETS.tcp(p.tcpSource)), receiveThroughDuplex),
    relay100: many(open(TARGETS.tcp(p.tcpSink))),
  };
}

/** Opens a stream to the never-reading target and keeps writing whenever it may; returns the
 *  bytes it accepted and a stopper. A tunnel that lets it block others fails the budget. */
async function stallStream(tunnel: TunnelServerSide): Promise<{ accepted: () => number; stop: () => void }> {
  const s = watchErrors(await tunnel.openStream(TARGETS.stall));
  const chunk = filler(cfg.chunkBytes);
  let accepted = 0;
  let stopped = false;
  const pump = (): void => {
    while (!stopped) {
      accepted += chunk.length;
      if (!s.write(chunk)) return void s.once('drain', pump);
    }
  };
  pump();
  return { accepted: () => accepted, stop: () => ((stopped = true), void s.destroy()) };
}

/** Latency figures in interleaved rounds: direct, helper, keep-alive relay, helper beside a
 *  stalled stream; then again. Each figure is warmed up once first. */
async function latencies(p: PeerReport, tunnel: TunnelServerSide | undefined): Promise<Results['latency']> {
  const roundMs = Math.max(1, Math.round(cfg.latencyMs / cfg.latencyRounds));
  const direct = directHttp(p.httpEcho);
  const figures: { name: string; request: RequestFn; raw: RawLatency; stalled?: boolean }[] = [
    { name: 'direct', request: direct.request, raw: emptyRaw() },
  ];
  let relayPool: ReturnType<typeof directHttp> | undefined;
  if (tunnel !== undefined) {
    const helper: RequestFn = (body) => tunnel.httpRequest(TARGETS.httpEcho, '/echo', body);
    relayPool = directHttp(p.httpEcho, new StreamAgent(() => tunnel.openStream(TARGETS.tcp(p.httpEcho)).then(watchErrors), POOL_SOCKETS));
    figures.push(
      { name: 'tunnel', request: helper, raw: emptyRaw() },
      { name: 'tunnelRelay', request: relayPool.request, raw: emptyRaw() },
      { name: 'stalled', request: helper, raw: emptyRaw(), stalled: true },
    );
  }
  for (const f of figures) if (f.stalled !== true) await measureLatency(f.request, cfg.ratePerSecond, cfg.warmupMs, cfg.payloadBytes);
  let stalledAcceptedBytes: number | undefined;
  for (let r = 0; r < cfg.latencyRounds; r++) {
    for (const f of figures) {
      const stall = f.stalled === true && tunnel !== undefined ? await stallStream(tunnel) : undefined;
      if (stall !== undefined) await sleep(cfg.stallSettleMs);
      await measureLatencyInto(f.raw, f.request, cfg.ratePerSecond, roundMs, cfg.payloadBytes);
      if (stall !== undefined) {
        stalledAcceptedBytes = Math.max(stalledAcceptedBytes ?? 0, stall.accepted());
        stall.stop();
      }
    }
  }
  direct.close();
  relayPool?.close();
  const get = (name: string) => figures.find((f) => f.name === name);
  const sum = (name: string) => {
    const f = get(name);
    return f === undefined ? {} : { [name]: summarizeRaw(f.raw, cfg.ratePerSecond) };
  };
  return {
    direct: summarizeRaw(figures[0]?.raw ?? emptyRaw(), cfg.ratePerSecond),
    ...sum('tunnel'),
    ...sum('tunnelRelay'),
    ...sum('stalled'),
    ...(stalledAcceptedBytes === undefined ? {} : { stalledAcceptedBytes }),
  };
}

async function main(): Promise<Results> {
  const machine = describeMachine();
  progress(`${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.go}${flags.quick ? ' (quick run)' : ''}`);
  const load = await loadBinding();
  const server = load.ok ? await load.binding.listen() : undefined;
  const agentArgs = flags['agent-cpu-prof'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${flags['agent-cpu-prof']}`];
  const peer = await startPeer(server?.url, cfg.peerStartMs, agentArgs);
  const p = peer.report;
  let tunnelStatus = load.ok ? p.tunnel : load.reason;
  let tunnel: TunnelServerSide | undefined;
  if (server !== undefined && p.tunnel === 'connected') {
    try {
      tunnel = await server.connected;
    } catch (err) {
      tunnelStatus = `server end never saw the session: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  try {
    const pids = peer.child.pid === undefined ? [] : [peer.child.pid];
    let throughput = {} as ThroughputResults;
    if (runs('throughput')) {
      progress(`throughput: ${cfg.repeats} interleaved rounds of TCP, WebSocket${tunnel === undefined ? '' : ' and tunnel'} transfers`);
      throughput = (await interleaved(throughputPlan(p, tunnel), cfg.repeats, pids)) as unknown as ThroughputResults;
    }
    let latency: Results['latency'] = { direct: summarizeRaw(emptyRaw(), cfg.ratePerSecond) };
    if (runs('latency')) {
      progress(`latency: ${cfg.latencyRounds} interleaved rounds at ${cfg.ratePerSecond} req/s, ${cfg.latencyMs} ms per figure`);
      latency = await latencies(p, tunnel);
    }
    await tunnel?.close();
    await server?.close();
    await peer.stop();
    let remotedialer: Results['remotedialer'] = { error: flags['skip-go'] ? 'skipped (--skip-go)' : `skipped (--only ${flags.only})` };
    if (!flags['skip-go'] && runs('go')) {
      progress('remotedialer (Go): build (cached) and run');
      try {
        remotedialer = await runRemotedialerBench(await buildRemotedialerBench(), cfg);
      } catch (err) {
        remotedialer = { error: err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err) };
      }
    }
    return {
      machine,
      loadAtEnd: os.loadavg()[0] ?? 0,
      config: cfg,
      tunnel: tunnelStatus,
      throughput,
      streamErrors: { count: streamErrors.length, first: streamErrors.slice(0, 3) },
      latency,
      remotedialer,
    };
  } finally {
    await peer.stop();
  }
}

const results = await main();
if (flags.json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  const m = results.machine;
  const rd = 'error' in results.remotedialer ? '' : `, remotedialer ${results.remotedialer.remotedialer} on ${results.remotedialer.go}`;
  const c = results.config;
  process.stdout.write(
    [
      `Drover protocol benchmark (issue 3)`,
      `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}`,
      `runtimes: node ${m.node}, ${m.go}${rd}`,
      `load: ${c.payloadBytes} B request/response at ${c.ratePerSecond} req/s open loop, ${c.latencyMs} ms per figure in ` +
        `${c.latencyRounds} interleaved rounds; throughput ${c.chunkBytes / 1024} KiB writes, median of ${c.repeats} interleaved rounds`,
      `tunnel: ${results.tunnel}`,
      ...(flags.only === undefined ? [] : [`parts: ${flags.only} only (--only); the other figures print n/a`]),
      ...[busyWarning(m.cores, m.loadAtStart, results.loadAtEnd)].filter((x) => x !== undefined),
      '',
      renderTable(buildRows(results)),
      ...(results.streamErrors.count > 0
        ? [`stream errors no transfer was waiting for: ${results.streamErrors.count} (${results.streamErrors.first.join('; ')})`]
        : []),
      '',
    ].join('\n'),
  );
}
