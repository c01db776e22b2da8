// Request/response latency at a fixed open-loop rate. The request function is injected, so the
// same loop drives direct HTTP and HTTP through a tunnel stream. Latency is timed from the actual
// dispatch; the dispatch lag against the schedule is summarized too, to show the generator kept
// up (Node's timers tick at about 1 ms, so requests leave in small bursts of ~2 at 2,000 req/s).

import http from 'node:http';
import { runOpenLoop } from './pacing.ts';
import { summarize } from './stats.ts';
import type { LatencySummary } from './stats.ts';

export type RequestFn = (body: Buffer) => Promise<void>;

export interface LatencyResult {
  readonly ratePerSecond: number;
  readonly requests: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly latencyMs: LatencySummary;
  readonly dispatchLagMs: LatencySummary;
}

/** One run's raw observations; runs of the same figure are merged before summarizing. */
export interface RawLatency {
  readonly samples: number[];
  readonly lags: number[];
  requests: number;
  errors: number;
  firstError?: string;
}

export function emptyRaw(): RawLatency {
  return { samples: [], lags: [], requests: 0, errors: 0 };
}

/** Runs the open loop once and appends what it saw to `into`. */
export async function measureLatencyInto(
  into: RawLatency,
  request: RequestFn,
  ratePerSecond: number,
  durationMs: number,
  payloadBytes: number,
): Promise<void> {
  const body = Buffer.alloc(payloadBytes, 0x61);
  const pending: Promise<void>[] = [];
  into.requests += await runOpenLoop({
    ratePerSecond,
    durationMs,
    now: () => performance.now(),
    tick: (resume) => void setTimeout(resume, 0),
    fire: (_i, lagMs) => {
      into.lags.push(lagMs);
      const t0 = performance.now();
      pending.push(
        request(body).then(
          () => void into.samples.push(performance.now() - t0),
          (err: unknown) => {
            into.errors++;
            into.firstError ??= err instanceof Error ? err.message : String(err);
          },
        ),
      );
    },
  });
  await Promise.all(pending);
}

export function summarizeRaw(raw: RawLatency, ratePerSecond: number): LatencyResult {
  return {
    ratePerSecond,
    requests: raw.requests,
    errors: raw.errors,
    ...(raw.firstError === undefined ? {} : { firstError: raw.firstError }),
    latencyMs: summarize(raw.samples),
    dispatchLagMs: summarize(raw.lags),
  };
}

export async function measureLatency(
  request: RequestFn,
  ratePerSecond: number,
  durationMs: number,
  payloadBytes: number,
): Promise<LatencyResult> {
  const raw = emptyRaw();
  await measureLatencyInto(raw, request, ratePerSecond, durationMs, payloadBytes);
  return summarizeRaw(raw, ratePerSecond);
}

/** Most connections a keep-alive pool opens; far above what 2,000 req/s of 1 KiB needs. */
export const POOL_SOCKETS = 256;

/** Direct HTTP/1.1 POST to the echo target over a keep-alive pool; checks status and size. */
export function directHttp(port: number, agent: http.Agent = new http.Agent({ keepAlive: true, maxSockets: POOL_SOCKETS })): {
  request: RequestFn;
  close: () => void;
} {
  const request: RequestFn = (body) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/echo', agent, headers: { 'content-length': body.length } },
        (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => (n += c.length));
          res.on('end', () =>
            res.statusCode === 200 && n === body.length ? resolve() : reject(new Error(`echo answered ${res.statusCode} with ${n} bytes`)),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { request, close: () => agent.destroy() };
}
