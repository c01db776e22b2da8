// Every size, rate and duration of the protocol benchmark, named in one place. A full run
// (TypeScript figures plus the remotedialer anchor) stays under about three minutes on 2 cores.

const MiB = 1024 * 1024;

export const BENCH = {
  /** Bytes pushed through one stream per throughput repetition: long enough to dwarf setup. */
  oneStreamBytes: 256 * MiB,
  /** Bytes pushed in total by the concurrent run, split evenly across `streams`. */
  concurrentBytes: 200 * MiB,
  /** Concurrent streams in the many-streams run (issue 3). */
  streams: 100,
  /** Write size for every throughput sender, TCP, WebSocket and tunnel alike. */
  chunkBytes: 64 * 1024,
  /** Throughput rounds; each round runs every throughput figure once, in turn, so a change in
   *  background load hits baseline and tunnel alike; the median round is reported per figure. */
  repeats: 3,
  /** Request and response body in the latency runs (issue 3: 1 KiB). */
  payloadBytes: 1024,
  /** Offered load, open loop: requests start on schedule whether or not earlier ones answered. */
  ratePerSecond: 2000,
  /** Measured latency time per figure, split over `latencyRounds` interleaved rounds (direct,
   *  tunnel, keep-alive, stalled, then again) whose samples are merged. */
  latencyMs: 5000,
  latencyRounds: 5,
  /** Discarded warm-up before each latency run (JIT, connection pools, TCP windows). */
  warmupMs: 1000,
  /** Time given to the stalled stream to fill its window before the head-of-line run starts. */
  stallSettleMs: 200,
  /** Upper bound on a single throughput repetition before the run is declared failed. */
  throughputTimeoutMs: 60_000,
  /** Time the agent child gets to start its targets and report its ports. */
  peerStartMs: 60_000,
} as const;

export type BenchConfig = { readonly [K in keyof typeof BENCH]: number };

/** `--quick`: a smoke run of the whole pipeline in well under a minute; figures are noisier. */
export const QUICK: BenchConfig = {
  ...BENCH,
  oneStreamBytes: 32 * MiB,
  concurrentBytes: 32 * MiB,
  repeats: 1,
  latencyMs: 1000,
  latencyRounds: 1,
  warmupMs: 300,
};

/** The stream/request budgets from issue 3, checked against the same run's baselines. */
export const BUDGETS = {
  /** One tunnel stream moves at least this fraction of raw WebSocket throughput (issue 12: 0.9, was 0.8). */
  oneStreamVsWs: 0.9,
  /** p50 latency added by the tunnel over direct HTTP at the offered rate, in ms. */
  p50OverheadMs: 0.2,
  /** p99 latency added by the tunnel over direct HTTP at the offered rate, in ms. */
  p99OverheadMs: 1,
  /** Change of the other streams' p99 while one stream's reader is stalled, in ms (strictly less). */
  stalledChangeMs: 1,
  /** One-stream throughput relative to rancher/remotedialer on the same machine and payloads. */
  vsRemotedialer: 1.0,
} as const;
