// Figure for issue 20: the dashboard's first page of clusters with 10,000 clusters registered,
// against a baseline from the same run, the JSON API's `GET /v1/clusters` (all 10,000 as JSON,
// what the CLI's `drover cluster list` fetches). Budget: the first page in < 200 ms server time.
// Run: `node bench/dashboard.ts [--clusters N] [--rounds N] [--json] [--data-dir DIR]` (--data-dir
// keeps the server's data for the next run, which then skips registering: registering 10,000
// clusters takes one to three minutes).
// A real server in-process on loopback (its own temp data dir), clusters registered through
// POST /v1/register (the agents' path), five regions and three environments as labels. Each
// round requests every figure once in turn (interleaved, so background load hits all alike) over
// one keep-alive HTTPS connection; the time is the round trip on loopback, an upper bound of the
// server time. Medians and p95 over the rounds; the first two rounds are warm-up.
import https from 'node:https';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startServer } from '../server-lite/server.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerAgents } from './lib/register-agents.ts';
import { percentile } from './lib/stats.ts';
import { MAX_AGE_MS } from '../server-lite/ui/cluster-snapshot.ts';

const { values } = parseArgs({ options: { clusters: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '22' }, json: { type: 'boolean', default: false }, 'data-dir': { type: 'string' } } });
const N = Number(values.clusters);
const ROUNDS = Number(values.rounds);
const WARMUP = 2;
const BUDGET_MS = 200;

/** Wall time of the round trip, and the CPU this process (server and client) spent on it. */
function get(agent: https.Agent, ca: string, url: string, headers: Record<string, string>): Promise<{ status: number; bytes: number; ms: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    https.get(url, { agent, ca, headers }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => {
        const c = process.cpuUsage(c0);
        resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 });
      });
    }).on('error', reject);
  });
}

/** Nearest-rank percentile (bench/lib/stats.ts) of unsorted samples. */
const quantile = (xs: readonly number[], q: number): number => percentile([...xs].sort((a, b) => a - b), q * 100);

async function main(): Promise<void> {
  const load0 = loadavg()[0] ?? 0;
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${load0.toFixed(2)}`);
  const kept = values['data-dir'];
  const reuse = kept !== undefined && existsSync(join(kept, 'admin-token'));
  const dir = kept ?? mkdtempSync(join(tmpdir(), 'drover-bench-dashboard-'));
  const server = await startServer({ dataDir: dir, host: '127.0.0.1', port: 0, tlsSans: [] }, { log: pino({ level: 'silent' }), defaultMetrics: false });
  try {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const admin = { authorization: `Bearer ${server.adminToken}` };
    const have = (await server.ctx.store.listClusters()).length;
    if (reuse && have === N) {
      console.log(`reusing ${have} clusters in ${dir}`);
    } else {
      if (have !== 0) throw new Error(`${dir} holds ${have} clusters, not ${N}: use an empty or new --data-dir`);
      const created = await fetchJson(agent, server, '/v1/tokens', { ttlSeconds: 0, uses: 0 });
      const secret = created.token.split('::')[1] ?? '';
      const t0 = performance.now();
      const regions = ['eu', 'us', 'ap', 'sa', 'af'];
      const per = Math.ceil(N / regions.length);
      for (const [i, region] of regions.entries()) {
        await registerAgents(server.url, server.caPem, secret, { from: i * per, to: Math.min(N, (i + 1) * per), role: 'cluster', prefix: `site-${region}`, labels: { region, env: ['prod', 'dev', 'edge'][i % 3] ?? 'prod' } });
      }
      console.log(`registered ${N} clusters in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    // The dashboard session: the admin token in the session cookie.
    const cookie = { cookie: `__Host-drover-ui=${encodeURIComponent(server.adminToken)}` };
    // "cold": the dashboard's shared cluster snapshot (ui/cluster-snapshot.ts) has expired, so the
    // request rebuilds it from the store, as GET /v1/clusters does every time; "warm": another
    // page view or live stream built it less than a second ago.
    const cold = MAX_AGE_MS + 100;
    const figures: { name: string; path: string; headers: Record<string, string>; waitMs: number }[] = [
      { name: 'baseline: GET /v1/clusters (JSON, all clusters)', path: '/v1/clusters', headers: admin, waitMs: 0 },
      { name: 'dashboard: first page of clusters (50 rows), cold', path: '/ui/clusters', headers: cookie, waitMs: cold },
      { name: 'dashboard: first page, warm (snapshot < 1 s old)', path: '/ui/clusters', headers: cookie, waitMs: 0 },
      { name: 'dashboard: region=eu, sort lastSeen desc, cold', path: '/ui/clusters?labels=region%3Deu&sort=lastSeen&dir=desc', headers: cookie, waitMs: cold },
      { name: 'dashboard: last page (page 200), cold', path: '/ui/clusters?page=200', headers: cookie, waitMs: cold },
    ];
    const samples = figures.map(() => [] as number[]);
    const cpu = figures.map(() => [] as number[]);
    const sizes = figures.map(() => 0);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, f] of figures.entries()) {
        if (f.waitMs > 0) await sleep(f.waitMs);
        const res = await get(agent, server.caPem, `${server.url}${f.path}`, f.headers);
        if (res.status !== 200) throw new Error(`${f.path}: HTTP ${res.status}`);
        sizes[i] = res.bytes;
        if (r >= WARMUP) {
          samples[i]?.push(res.ms);
          cpu[i]?.push(res.cpuMs);
        }
      }
    }
    const rows = figures.map((f, i) => ({ name: f.name, p50: quantile(samples[i] ?? [], 0.5), p95: quantile(samples[i] ?? [], 0.95), cpuP50: quantile(cpu[i] ?? [], 0.5), bytes: sizes[i] ?? 0 }));
    const base = rows[0]?.p50 ?? NaN;
    const baseCpu = rows[0]?.cpuP50 ?? NaN;
    const first = rows[1];
    if (values.json) {
      console.log(JSON.stringify({ clusters: N, rounds: ROUNDS - WARMUP, rows: rows.map((r) => ({ ...r, ratio: r.p50 / base, cpuRatio: r.cpuP50 / baseCpu })) }, null, 2));
    } else {
      console.log(`${N} clusters, ${ROUNDS - WARMUP} measured rounds (round trip on loopback over keep-alive TLS)`);
      console.log('  (wall: p50/p95 round trip; cpu: p50 CPU of the process, server and client, per request — steadier on a busy machine)');
      for (const r of rows) console.log(`  ${r.name.padEnd(62)} wall p50 ${r.p50.toFixed(1).padStart(7)} ms  p95 ${r.p95.toFixed(1).padStart(7)} ms  cpu p50 ${r.cpuP50.toFixed(1).padStart(6)} ms  ${String(Math.round(r.bytes / 1024)).padStart(6)} KiB  ×${(r.p50 / base).toFixed(2)} wall, ×${(r.cpuP50 / baseCpu).toFixed(2)} cpu of baseline`);
      console.log(`budget: first page < ${BUDGET_MS} ms: ${first && first.p50 < BUDGET_MS ? 'met' : 'NOT met'} (wall p50 ${first?.p50.toFixed(1)} ms, p95 ${first?.p95.toFixed(1)} ms; cpu p50 ${first?.cpuP50.toFixed(1)} ms)`);
    }
    agent.destroy();
    const load1 = loadavg()[0] ?? 0;
    if (load0 > cpus().length * 0.5 || load1 > cpus().length * 0.5 + 1) console.log(`WARNING: load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end: other work shared the CPU`);
  } finally {
    await server.close();
    if (kept === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

function fetchJson(agent: https.Agent, server: { url: string; caPem: string; adminToken: string }, path: string, body: unknown): Promise<{ token: string }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = https.request(`${server.url}${path}`, { method: 'POST', agent, ca: server.caPem, headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text) as { token: string }) : reject(new Error(`${path}: ${res.statusCode} ${text}`))));
    }).on('error', reject);
    req.end(payload);
  });
}

await main();
