// Builds (once, cached by content hash under ~/.cache/drover/bench/) and runs the Go anchor in
// bench/remotedialer/, and validates the JSON it prints before anything reads it.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { z } from 'zod';
import type { BenchConfig } from '../config.ts';

const SOURCE_DIR = fileURLToPath(new URL('../remotedialer/', import.meta.url));
export const CACHE_DIR = path.join(os.homedir(), '.cache', 'drover', 'bench');

const throughput = z.object({
  bytes: z.number(),
  streams: z.number(),
  seconds: z.number(),
  mibPerSecond: z.number(),
  cpuMsPerGiB: z.number(),
});
const latency = z.object({
  requests: z.number(),
  errors: z.number(),
  completed: z.number(),
  ratePerSecond: z.number(),
  p50ms: z.number(),
  p90ms: z.number(),
  p99ms: z.number(),
  maxMs: z.number(),
  dispatchLagP99ms: z.number(),
});
export const remotedialerResult = z.object({
  remotedialer: z.string(),
  go: z.string(),
  gomaxprocs: z.number(),
  oneStream: throughput,
  oneStreamDownload: throughput,
  concurrent: throughput,
  latency: z.object({ tunnel: latency, direct: latency }),
  latencyWithStalledStream: latency,
});
export type RemotedialerResult = z.infer<typeof remotedialerResult>;

/** Hash of every input of the Go build, so an edit rebuilds and nothing else does. */
function sourceHash(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(SOURCE_DIR).filter((n) => /\.(go|mod|sum)$/.test(n)).sort()) {
    h.update(f).update('\0').update(readFileSync(path.join(SOURCE_DIR, f))).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** Returns the cached binary, building it first when the sources changed. */
export async function buildRemotedialerBench(): Promise<string> {
  const bin = path.join(CACHE_DIR, `remotedialer-bench-${sourceHash()}`);
  if (existsSync(bin)) return bin;
  mkdirSync(CACHE_DIR, { recursive: true });
  // GOTOOLCHAIN=local: never download a toolchain (decision 0400); GOFLAGS keeps go.sum honest.
  await execa('go', ['build', '-trimpath', '-o', bin, '.'], {
    cwd: SOURCE_DIR,
    env: { GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly -buildvcs=false' },
  });
  return bin;
}

export async function runRemotedialerBench(bin: string, cfg: BenchConfig): Promise<RemotedialerResult> {
  const { stdout } = await execa(bin, [
    `-one-bytes=${cfg.oneStreamBytes}`,
    `-many-bytes=${cfg.concurrentBytes}`,
    `-streams=${cfg.streams}`,
    `-chunk=${cfg.chunkBytes}`,
    `-repeats=${cfg.repeats}`,
    `-payload=${cfg.payloadBytes}`,
    `-rate=${cfg.ratePerSecond}`,
    `-duration=${cfg.latencyMs}ms`,
    `-warmup=${cfg.warmupMs}ms`,
  ]);
  return remotedialerResult.parse(JSON.parse(stdout));
}
