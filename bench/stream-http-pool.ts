// CPU per HTTP exchange over tunnel streams, a stream per request vs the keep-alive pool
// (decision 1200), in one process over an in-memory session pair (no socket, no second process:
// steady on a shared machine where wall-clock p99 is not). Rounds of the two modes interleaved:
// `node bench/stream-http-pool.ts [--requests N] [--concurrency C] [--rounds R]`. Not a test.
import { parseArgs } from 'node:util';
import { echo } from './peer/targets.ts';
import { bothReady, createStreamHttpServer, HttpStreamPool, requestOverStream, sessionPair, systemClock, type StreamHttpResult } from '../protocol/index.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
  },
});
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const body = Buffer.alloc(1024, 7);

const { client, server } = sessionPair({ clock: systemClock });
let streams = 0;
const http = createStreamHttpServer({ request: echo });
client.on('stream', (s) => {
  streams++;
  http.serve(s);
});
await bothReady(client, server);
const pool = new HttpStreamPool({ open: (t, m) => server.openStream(t, m), clock: systemClock });

const req = () => ({ method: 'POST', path: '/echo', headers: { 'content-type': 'application/octet-stream', 'content-length': body.length }, body });
const modes: Record<string, () => Promise<StreamHttpResult>> = {
  'stream per request': () => requestOverStream(server.openStream('http:echo'), req()),
  'keep-alive pool': async () => (await pool.request('http:echo', req())).result,
};

async function run(send: () => Promise<StreamHttpResult>, n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) {
        const r = await send();
        if (r.kind !== 'response') throw new Error('unexpected upgrade');
        let got = 0;
        for await (const c of r.response) got += (c as Buffer).length;
        if (got !== body.length) throw new Error(`echo returned ${got} bytes`);
      }
    }),
  );
}

const results = new Map<string, { us: number[]; streams: number[] }>();
for (const [name, send] of Object.entries(modes)) {
  await run(send, Math.min(2000, total)); // warm-up: JIT and pools
  results.set(name, { us: [], streams: [] });
}
for (let r = 0; r < rounds; r++) {
  for (const [name, send] of Object.entries(modes)) {
    const s0 = streams;
    const cpu0 = process.cpuUsage();
    await run(send, total);
    const cpu = process.cpuUsage(cpu0);
    results.get(name)?.us.push((cpu.user + cpu.system) / total);
    results.get(name)?.streams.push(streams - s0);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
process.stdout.write(`${total} requests × ${rounds} rounds per mode, concurrency ${concurrency}, 1 KiB each way, node ${process.version}\n`);
for (const [name, r] of results) {
  process.stdout.write(`${name.padEnd(20)} CPU per request ${median(r.us).toFixed(1)} µs (rounds ${r.us.map((x) => x.toFixed(1)).join(', ')}); streams opened per round ${r.streams.join(', ')}\n`);
}
pool.close();
client.close('NORMAL', 'done');
