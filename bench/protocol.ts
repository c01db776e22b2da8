// The protocol benchmark of issue 3, one command: `node bench/protocol.ts` (see bench/README.md).
// Measures raw TCP, raw WebSocket and direct HTTP baselines, the same shapes through the Drover
// tunnel, and rancher/remotedialer (Go) on the same payloads, then prints every figure with its
// same-run baseline, the ratio, and the budget verdict. Benchmarks are not tests: tap never runs
// this file; test/integration/bench-smoke.test.ts checks its pure helpers.

import net from 'node:net';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import type { Duplex } from 'node:stream';
import { BENCH, QUICK } from './config.ts';
import type { BenchConfig } from './config.ts';
import os from 'node:os';
import { busyWarning, describeMachine } from './lib/machine.ts';
import { startPeer } from './lib/peer-process.ts';
import {
  medianRun,
  receiveThroughDuplex,
  receiveThroughWebSocket,
  sendThroughDuplex,
  sendThroughWebSocket,
  timeConcurrent,
} from './lib/throughput.ts';
import type { Transfer } from './lib/throughput.ts';
import { directHttp, measureLatency, POOL_SOCKETS } from './lib/latency.ts';
import { StreamAgent } from './lib/stream-agent.ts';
import type { RequestFn, LatencyResult } from './lib/latency.ts';
import { buildRemotedialerBench, runRemotedialerBench } from './lib/remotedialer.ts';
import { buildRows } from './lib/rows.ts';
import type { Results } from './lib/rows.ts';
import { renderTable } from './lib/format.ts';
import { loadBinding, TARGETS } from './tunnel/harness.ts';
import type { TunnelServerSide } from './tunnel/harness.ts';
import { filler } from './lib/sink.ts';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: process.env.DROVER_BENCH_JSON === '1' },
    quick: { type: 'boolean', default: process.env.DROVER_BENCH_QUICK === '1' },
    'skip-go': { type: 'boolean', default: process.env.DROVER_BENCH_SKIP_GO === '1' },
    'agent-cpu-prof': { type: 'string', default: process.env.DROVER_BENCH_AGENT_CPU_PROF },
  },
});
const cfg: BenchConfig = flags.quick ? QUICK : BENCH;
const progress = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);

async function tcp(port: number): Promise<Duplex> {
  const s = net.connect(port, '127.0.0.1');
  s.setNoDelay(true);
  await once(s, 'connect');
  return s;
}

/** Times one transfer of `bytes` through a freshly opened Duplex (opening included, as in Go). */
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

/** Stream errors nobody else handled, e.g. a RESET that arrives after a transfer completed.
 *  Counted and reported rather than crashing the run (they once did: see the report's notes). */
const streamErrors: string[] = [];
function watchErrors<T extends Duplex>(s: T): T {
  s.on('error', (err: Error & { code?: string }) => {
    if (s.listenerCount('error') === 1) streamErrors.push(`${err.code ?? 'ERROR'}: ${err.message}`);
  });
  return s;
}

async function latencyRun(request: RequestFn): Promise<LatencyResult> {
  await measureLatency(request, cfg.ratePerSecond, cfg.warmupMs, cfg.payloadBytes);
  return measureLatency(request, cfg.ratePerSecond, cfg.latencyMs, cfg.payloadBytes);
}

/** Opens a stream to the never-reading target and keeps writing whenever it may; returns the
 *  bytes it accepted so far and a stopper. A tunnel that lets it block others fails the budget. */
async function stallStream(tunnel: TunnelServerSide): Promise<{ accepted: () => number; stop: () => void }> {
  const s = await tunnel.openStream(TARGETS.stall);
  const chunk = filler(cfg.chunkBytes);
  let accepted = 0;
  let stopped = false;
  s.on('error', () => undefined);
  const pump = (): void => {
    while (!stopped) {
      accepted += chunk.length;
      if (!s.write(chunk)) return void s.once('drain', pump);
    }
  };
  pump();
  return { accepted: () => accepted, stop: () => ((stopped = true), void s.destroy()) };
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
    progress('throughput baselines: TCP and WebSocket, both directions');
    const one = (open: () => Promise<Duplex>, transfer: Transfer) =>
      medianRun(cfg.repeats, cfg.oneStreamBytes, 1, () => timeOne(open, transfer, cfg.oneStreamBytes));
    const many = (open: () => Promise<Duplex>) =>
      medianRun(cfg.repeats, cfg.concurrentBytes, cfg.streams, () =>
        timeConcurrent(cfg.streams, cfg.concurrentBytes, cfg.chunkBytes, open, sendThroughDuplex),
      );
    const baselines = {
      tcpUp: await one(() => tcp(p.tcpSink), sendThroughDuplex),
      tcpDown: await one(() => tcp(p.tcpSource), receiveThroughDuplex),
      wsServerToClient: await medianRun(cfg.repeats, cfg.oneStreamBytes, 1, () =>
        receiveThroughWebSocket(`ws://127.0.0.1:${p.wsSource}`, cfg.oneStreamBytes),
      ),
      wsClientToServer: await medianRun(cfg.repeats, cfg.oneStreamBytes, 1, () =>
        sendThroughWebSocket(`ws://127.0.0.1:${p.wsSink}`, cfg.oneStreamBytes, cfg.chunkBytes),
      ),
      tcp100: await many(() => tcp(p.tcpSink)),
    };
    let tunnelThroughput = {};
    let tunnelLatency = {};
    if (tunnel !== undefined) {
      const t = tunnel;
      const open = (target: string) => () => t.openStream(target).then(watchErrors);
      progress('tunnel throughput: in-process ends, then relayed to TCP targets');
      tunnelThroughput = {
        tunnelUp: await one(open(TARGETS.sink), sendThroughDuplex),
        tunnelDown: await one(open(TARGETS.source), receiveThroughDuplex),
        tunnel100: await many(open(TARGETS.sink)),
        relayUp: await one(open(TARGETS.tcp(p.tcpSink)), sendThroughDuplex),
        relayDown: await one(open(TARGETS.tcp(p.tcpSource)), receiveThroughDuplex),
        relay100: await many(open(TARGETS.tcp(p.tcpSink))),
      };
    }
    progress(`latency: direct HTTP at ${cfg.ratePerSecond} req/s`);
    const http = directHttp(p.httpEcho);
    const direct = await latencyRun(http.request);
    http.close();
    if (tunnel !== undefined) {
      const t = tunnel;
      progress('latency: through the tunnel (HTTP-over-stream helper, then keep-alive over relayed streams), then with one stream stalled');
      const request: RequestFn = (body) => t.httpRequest(TARGETS.httpEcho, '/echo', body);
      const calm = await latencyRun(request);
      const relayPool = directHttp(p.httpEcho, new StreamAgent(() => t.openStream(TARGETS.tcp(p.httpEcho)), POOL_SOCKETS));
      const relay = await latencyRun(relayPool.request);
      relayPool.close();
      const stall = await stallStream(t);
      await new Promise((r) => setTimeout(r, cfg.stallSettleMs));
      const stalled = await measureLatency(request, cfg.ratePerSecond, cfg.latencyMs, cfg.payloadBytes);
      const stalledAcceptedBytes = stall.accepted();
      stall.stop();
      tunnelLatency = { tunnel: calm, tunnelRelay: relay, stalled, stalledAcceptedBytes };
    }
    await tunnel?.close();
    await server?.close();
    await peer.stop();
    let remotedialer: Results['remotedialer'] = { error: 'skipped (--skip-go)' };
    if (!flags['skip-go']) {
      progress('remotedialer (Go): build (cached) and run');
      try {
        remotedialer = await runRemotedialerBench(await buildRemotedialerBench(), cfg);
      } catch (err) {
        remotedialer = { error: err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err) };
      }
    }
    return {
      loadAtEnd: os.loadavg()[0] ?? 0,
      machine,
      config: cfg,
      tunnel: tunnelStatus,
      throughput: { ...baselines, ...tunnelThroughput },
      streamErrors: { count: streamErrors.length, first: streamErrors.slice(0, 3) },
      latency: { direct, ...tunnelLatency },
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
  process.stdout.write(
    [
      `Drover protocol benchmark (issue 3)`,
      `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}`,
      `runtimes: node ${m.node}, ${m.go}${rd}`,
      `load: ${results.config.payloadBytes} B request/response at ${results.config.ratePerSecond} req/s open loop, ` +
        `${results.config.latencyMs} ms per run; throughput ${results.config.chunkBytes / 1024} KiB writes, median of ${results.config.repeats}`,
      `tunnel: ${results.tunnel}`,
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
