// Allocation and GC cost of one HTTP exchange per stream (`requestOverStream` served by
// `createStreamHttpServer`), in one process over an in-memory session pair, so no socket and no
// second process adds noise: `node bench/stream-http-gc.ts [--requests N] [--concurrency C]`.
// Prints CPU per request and the GC count and pause time by kind. These figures are far steadier
// than wall-clock p99 on a shared machine, and the p99 tail of the latency benchmark is GC
// (issue 3, decision 0150). Not a test: it only reports.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { echo } from './peer/targets.ts';
import { bothReady, createStreamHttpServer, requestOverStream, sessionPair, systemClock } from '../protocol/index.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: process.env.DROVER_BENCH_REQUESTS ?? '20000' },
    concurrency: { type: 'string', default: process.env.DROVER_BENCH_CONCURRENCY ?? '4' },
  },
});
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const body = Buffer.alloc(1024, 7);

const { client, server } = sessionPair({ clock: systemClock });
const http = createStreamHttpServer({ request: echo });
client.on('stream', (s) => http.serve(s));
await bothReady(client, server);

async function one(): Promise<void> {
  const stream = server.openStream('http:echo');
  const r = await requestOverStream(stream, {
    method: 'POST', path: '/echo', headers: { 'content-type': 'application/octet-stream', 'content-length': body.length }, body,
  });
  if (r.kind !== 'response') throw new Error('unexpected upgrade');
  let n = 0;
  for await (const c of r.response) n += (c as Buffer).length;
  if (n !== body.length) throw new Error(`echo returned ${n} bytes`);
}

async function run(n: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < n) await one();
  }));
}

await run(Math.min(2000, total)); // warm-up: JIT and pools
const gcs = { minor: 0, major: 0, minorMs: 0, majorMs: 0 };
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) { gcs.minor++; gcs.minorMs += e.duration; } else { gcs.major++; gcs.majorMs += e.duration; }
  }
});
obs.observe({ entryTypes: ['gc'] });
const cpu0 = process.cpuUsage();
await run(total);
const cpu = process.cpuUsage(cpu0);
await new Promise((r) => setTimeout(r, 50));
obs.disconnect();
const us = (cpu.user + cpu.system) / total;
process.stdout.write(`${total} requests, concurrency ${concurrency}, 1 KiB each way, node ${process.version}\n`);
process.stdout.write(`CPU per request: ${us.toFixed(1)} µs\n`);
process.stdout.write(`GC: ${gcs.minor} minor (${gcs.minorMs.toFixed(1)} ms), ${gcs.major} major (${gcs.majorMs.toFixed(1)} ms); per 10k requests: ${(gcs.minor * 1e4 / total).toFixed(1)} minor, ${(gcs.major * 1e4 / total).toFixed(1)} major\n`);
client.close('NORMAL', 'done');
