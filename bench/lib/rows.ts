// The results of one run and the report rows derived from them: every figure next to its
// baseline from the same run and, where issue 3 sets one, its budget. Pure, so the smoke test
// can check the arithmetic and the PASS/MISS logic without running anything.
//
// Directions: "server→agent" is what the opener writes (kubectl apply, exec stdin); the tunnel
// carries it in WebSocket server-to-client frames, which are unmasked. "agent→server" is what
// the opener reads (GET, logs, watch); the tunnel carries it in client-to-server frames, which
// RFC 6455 masks. Each is compared with raw WebSocket frames of the same direction.

import type { BenchConfig } from '../config.ts';
import type { Machine } from './machine.ts';
import type { ThroughputResult } from './throughput.ts';
import type { LatencyResult } from './latency.ts';
import type { RemotedialerResult } from './remotedialer.ts';
import type { Row } from './format.ts';
import { checks } from './verdicts.ts';

export interface ThroughputResults {
  /** Baselines; absent only when the run skipped throughput (--only). */
  readonly tcpUp?: ThroughputResult;
  readonly tcpDown?: ThroughputResult;
  readonly wsServerToClient?: ThroughputResult;
  readonly wsClientToServer?: ThroughputResult;
  readonly tcp100?: ThroughputResult;
  readonly tunnelUp?: ThroughputResult;
  readonly tunnelDown?: ThroughputResult;
  readonly tunnel100?: ThroughputResult;
  readonly relayUp?: ThroughputResult;
  readonly relayDown?: ThroughputResult;
  readonly relay100?: ThroughputResult;
}

export interface Results {
  readonly machine: Machine;
  /** 1-minute load average when the run ended (machine.loadAtStart is the other end). */
  readonly loadAtEnd: number;
  readonly config: BenchConfig;
  /** "connected" when the tunnel was measured, otherwise why not. */
  readonly tunnel: string;
  readonly throughput: ThroughputResults;
  /** Errors on tunnel streams after their transfer no longer listened (should be none). */
  readonly streamErrors: { readonly count: number; readonly first: readonly string[] };
  readonly latency: {
    readonly direct: LatencyResult;
    /** HTTP over a stream served by the agent itself (the protocol's helper on both ends). */
    readonly tunnel?: LatencyResult;
    /** Keep-alive HTTP over streams the agent relays to the echo target over TCP (remotedialer's
     *  shape: Go's http.Transport dialling through the tunnel). */
    readonly tunnelRelay?: LatencyResult;
    readonly stalled?: LatencyResult;
    /** Bytes the stalled stream accepted before its writer was told to wait (memory bound). */
    readonly stalledAcceptedBytes?: number;
  };
  readonly remotedialer: RemotedialerResult | { readonly error: string };
}

const NONE = Number.NaN;
const mibs = (t: ThroughputResult | undefined): number => t?.mibPerSecond ?? NONE;

/** The CPU-per-GiB fields of a throughput row and its baseline. */
function cpu(t: ThroughputResult | undefined, base?: ThroughputResult | number): { cpuMsPerGiB?: number; baselineCpuMsPerGiB?: number } {
  const b = typeof base === 'number' ? base : base?.cpuMsPerGiB;
  return {
    ...(t?.cpuMsPerGiB === undefined ? {} : { cpuMsPerGiB: t.cpuMsPerGiB }),
    ...(b === undefined ? {} : { baselineCpuMsPerGiB: b }),
  };
}

function note(...xs: (string | undefined | false)[]): { note?: string } {
  const s = xs.filter((x): x is string => typeof x === 'string').join('; ');
  return s === '' ? {} : { note: s };
}

export function buildRows(r: Results): Row[] {
  const t = r.throughput;
  const l = r.latency;
  const rd = 'error' in r.remotedialer ? undefined : r.remotedialer;
  const missing = r.tunnel === 'connected' ? undefined : `not yet measurable: ${r.tunnel}`;
  const rdMissing = 'error' in r.remotedialer ? `remotedialer: ${r.remotedialer.error}` : undefined;
  const lat = (x: LatencyResult | undefined, p: 'p50' | 'p99'): number => x?.latencyMs[p] ?? NONE;
  const vsTcp = (x: ThroughputResult | undefined, tcp: ThroughputResult | undefined): string | undefined =>
    x && tcp && `${(mibs(x) / mibs(tcp)).toFixed(2)}× raw TCP`;
  const errs = (x: LatencyResult | undefined): string | undefined =>
    x !== undefined && x.errors > 0 ? `${x.errors} of ${x.requests} requests failed: ${x.firstError}` : undefined;
  const rdUp = rd?.oneStream.mibPerSecond ?? NONE;
  const rdDown = rd?.oneStreamDownload.mibPerSecond ?? NONE;
  const rows: Row[] = [
    { figure: 'raw TCP, 1 conn, server→agent', value: mibs(t.tcpUp), unit: 'MiB/s', ...cpu(t.tcpUp) },
    { figure: 'raw TCP, 1 conn, agent→server', value: mibs(t.tcpDown), unit: 'MiB/s', ...cpu(t.tcpDown) },
    { figure: 'raw ws, server→client frames', value: mibs(t.wsServerToClient), unit: 'MiB/s', baselineName: 'TCP', baseline: mibs(t.tcpUp), ...cpu(t.wsServerToClient, t.tcpUp) },
    { figure: 'raw ws, client→server (masked)', value: mibs(t.wsClientToServer), unit: 'MiB/s', baselineName: 'TCP', baseline: mibs(t.tcpDown), ...cpu(t.wsClientToServer, t.tcpDown) },
    { figure: 'raw TCP, 100 conns', value: mibs(t.tcp100), unit: 'MiB/s', ...cpu(t.tcp100) },
    {
      figure: 'tunnel, 1 stream, server→agent',
      value: mibs(t.tunnelUp),
      unit: 'MiB/s', ...cpu(t.tunnelUp, t.wsServerToClient),
      baselineName: 'ws',
      baseline: mibs(t.wsServerToClient),
      check: checks.oneStreamVsWs(mibs(t.tunnelUp), mibs(t.wsServerToClient)),
      ...note(missing, vsTcp(t.tunnelUp, t.tcpUp)),
    },
    {
      figure: 'tunnel, 1 stream, agent→server',
      value: mibs(t.tunnelDown),
      unit: 'MiB/s', ...cpu(t.tunnelDown, t.wsClientToServer),
      baselineName: 'ws',
      baseline: mibs(t.wsClientToServer),
      check: checks.oneStreamVsWs(mibs(t.tunnelDown), mibs(t.wsClientToServer)),
      ...note(missing, vsTcp(t.tunnelDown, t.tcpDown)),
    },
    {
      figure: 'tunnel, 100 streams',
      value: mibs(t.tunnel100),
      unit: 'MiB/s',
      baselineName: 'TCP×100',
      baseline: mibs(t.tcp100),
      ...cpu(t.tunnel100, t.tcp100),
      ...note(missing),
    },
    {
      figure: 'tunnel→TCP relay, server→agent',
      value: mibs(t.relayUp),
      unit: 'MiB/s', ...cpu(t.relayUp, rd?.oneStream.cpuMsPerGiB),
      baselineName: 'remotedialer',
      baseline: rdUp,
      check: checks.vsRemotedialer(mibs(t.relayUp), rdUp),
      ...note(missing, rdMissing),
    },
    {
      figure: 'tunnel→TCP relay, agent→server',
      value: mibs(t.relayDown),
      unit: 'MiB/s', ...cpu(t.relayDown, rd?.oneStreamDownload.cpuMsPerGiB),
      baselineName: 'remotedialer',
      baseline: rdDown,
      check: checks.vsRemotedialer(mibs(t.relayDown), rdDown),
      ...note(missing, rdMissing),
    },
    {
      figure: 'tunnel→TCP relay, 100 streams',
      value: mibs(t.relay100),
      unit: 'MiB/s', ...cpu(t.relay100, rd?.concurrent.cpuMsPerGiB),
      baselineName: 'remotedialer',
      baseline: rd?.concurrent.mibPerSecond ?? NONE,
      ...note(missing, rdMissing),
    },
    { figure: 'direct HTTP 1 KiB p50', value: lat(l.direct, 'p50'), unit: 'ms', ...note(errs(l.direct)) },
    { figure: 'direct HTTP 1 KiB p99', value: lat(l.direct, 'p99'), unit: 'ms' },
    {
      figure: 'tunnel HTTP 1 KiB p50',
      value: lat(l.tunnel, 'p50'),
      unit: 'ms',
      baselineName: 'direct',
      baseline: lat(l.direct, 'p50'),
      check: checks.p50Overhead(lat(l.tunnel, 'p50'), lat(l.direct, 'p50')),
      ...note(missing, errs(l.tunnel)),
    },
    {
      figure: 'tunnel HTTP 1 KiB p99',
      value: lat(l.tunnel, 'p99'),
      unit: 'ms',
      baselineName: 'direct',
      baseline: lat(l.direct, 'p99'),
      check: checks.p99Overhead(lat(l.tunnel, 'p99'), lat(l.direct, 'p99')),
      ...note(missing),
    },
    {
      figure: 'tunnel→TCP keep-alive HTTP p50',
      value: lat(l.tunnelRelay, 'p50'),
      unit: 'ms',
      baselineName: 'direct',
      baseline: lat(l.direct, 'p50'),
      ...note(missing, errs(l.tunnelRelay)),
    },
    {
      figure: 'tunnel→TCP keep-alive HTTP p99',
      value: lat(l.tunnelRelay, 'p99'),
      unit: 'ms',
      baselineName: 'direct',
      baseline: lat(l.direct, 'p99'),
      ...note(missing),
    },
    {
      figure: 'tunnel HTTP p50, 1 stream stalled',
      value: lat(l.stalled, 'p50'),
      unit: 'ms',
      baselineName: 'calm',
      baseline: lat(l.tunnel, 'p50'),
      ...note(
        missing,
        errs(l.stalled),
        l.stalledAcceptedBytes !== undefined && `the stalled stream took ${l.stalledAcceptedBytes} bytes before its writer had to wait`,
      ),
    },
    {
      figure: 'tunnel HTTP p99, 1 stream stalled',
      value: lat(l.stalled, 'p99'),
      unit: 'ms',
      baselineName: 'calm',
      baseline: lat(l.tunnel, 'p99'),
      check: checks.stalledChange(lat(l.stalled, 'p99'), lat(l.tunnel, 'p99')),
      ...note(missing),
    },
  ];
  if (rd === undefined) {
    rows.push({ figure: 'remotedialer (Go)', value: NONE, unit: 'MiB/s', ...note(rdMissing) });
    return rows;
  }
  rows.push(
    {
      figure: 'remotedialer 1 stream, server→agent',
      value: rd.oneStream.mibPerSecond,
      unit: 'MiB/s',
      baselineName: 'ws',
      baseline: mibs(t.wsServerToClient),
      ...cpu(undefined, t.wsServerToClient),
      cpuMsPerGiB: rd.oneStream.cpuMsPerGiB,
    },
    {
      figure: 'remotedialer 1 stream, agent→server',
      value: rd.oneStreamDownload.mibPerSecond,
      unit: 'MiB/s',
      baselineName: 'ws',
      baseline: mibs(t.wsClientToServer),
      ...cpu(undefined, t.wsClientToServer),
      cpuMsPerGiB: rd.oneStreamDownload.cpuMsPerGiB,
    },
    {
      figure: 'remotedialer 100 streams',
      value: rd.concurrent.mibPerSecond,
      unit: 'MiB/s',
      baselineName: 'TCP×100',
      baseline: mibs(t.tcp100),
      ...cpu(undefined, t.tcp100),
      cpuMsPerGiB: rd.concurrent.cpuMsPerGiB,
    },
    { figure: 'remotedialer HTTP p50 (relay)', value: rd.latency.tunnel.p50ms, unit: 'ms', baselineName: 'Go direct', baseline: rd.latency.direct.p50ms },
    { figure: 'remotedialer HTTP p99 (relay)', value: rd.latency.tunnel.p99ms, unit: 'ms', baselineName: 'Go direct', baseline: rd.latency.direct.p99ms },
    { figure: 'remotedialer HTTP p99, 1 stalled', value: rd.latencyWithStalledStream.p99ms, unit: 'ms', baselineName: 'calm', baseline: rd.latency.tunnel.p99ms },
  );
  return rows;
}
