// Kubernetes proxy benchmark (issue 5): a real harness cluster, a real `drover server` and a real
// cluster agent (separate processes), and this driver. Measures, in the same run:
//  1. GET latency p50/p99 of one small object, proxied (kubectl's path: server → tunnel stream →
//     agent → kube-apiserver, as an impersonated user) vs direct to the kube-apiserver with the
//     admin kubeconfig. Sequential requests over keep-alive connections, rounds interleaved.
//  2. Watch fan-out: 100 concurrent watches through the one tunnel; an object is created and the
//     time until each watch sees its ADDED event is recorded; the same with 100 direct watches.
// Usage: node bench/proxy.ts [--quick] [--json]   (env DROVER_BENCH_QUICK=1, DROVER_BENCH_JSON=1)
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { startCluster } from '../test/k8s/harness.ts';
import { inspectorUrl, startProfile } from './lib/inspector-profile.ts';
import { describeMachine, busyWarning } from './lib/machine.ts';
import { summarize, type LatencySummary } from './lib/stats.ts';
import { processCpuMs } from './lib/cpu.ts';

const QUICK = process.argv.includes('--quick') || process.env.DROVER_BENCH_QUICK === '1';
const JSON_OUT = process.argv.includes('--json') || process.env.DROVER_BENCH_JSON === '1';
const ROUNDS = QUICK ? 2 : 5;
const GETS_PER_ROUND = QUICK ? 100 : 400;
const WATCHES = 100;
const EVENTS = QUICK ? 5 : 20;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DROVER = path.join(ROOT, 'bin', 'drover');

interface Target {
  base: string;
  agent: https.Agent;
  headers: Record<string, string>;
}

function get(t: Target, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(`${t.base}${p}`, { agent: t.agent, headers: t.headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

async function latency(t: Target, p: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await get(t, p);
    if (r.status !== 200) throw new Error(`GET ${p}: ${r.status} ${r.body.slice(0, 200)}`);
    out.push(performance.now() - t0);
  }
  return out;
}

/** Opens `n` watches; resolves when all have their response head; records ADDED arrival times. */
async function openWatches(t: Target, p: string, n: number, seen: Map<string, number[]>): Promise<() => void> {
  const reqs: ReturnType<typeof https.get>[] = [];
  await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<void>((resolve, reject) => {
        const req = https.get(`${t.base}${p}`, { agent: new https.Agent({ ca: t.agent.options.ca, cert: t.agent.options.cert, key: t.agent.options.key }), headers: t.headers }, (res) => {
          if (res.statusCode !== 200) return reject(new Error(`watch: ${res.statusCode}`));
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            buf += c;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              const ev = JSON.parse(line) as { type: string; object: { metadata: { name: string } } };
              if (ev.type === 'ADDED') seen.get(ev.object.metadata.name)?.push(performance.now());
            }
          });
          res.on('error', () => {});
          resolve();
        });
        req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
        reqs.push(req);
      }),
    ),
  );
  return () => reqs.forEach((r) => r.destroy());
}

async function fanOut(watchVia: Target, writer: Target, label: string): Promise<number[]> {
  const ns = '/api/v1/namespaces/default/configmaps';
  const list = JSON.parse((await get(writer, ns)).body) as { metadata: { resourceVersion: string } };
  const seen = new Map<string, number[]>();
  const close = await openWatches(watchVia, `${ns}?watch=1&resourceVersion=${list.metadata.resourceVersion}`, WATCHES, seen);
  const delays: number[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const name = `bench-${label}-${i}-${Date.now()}`;
    const arrivals: number[] = [];
    seen.set(name, arrivals);
    const t0 = performance.now();
    await post(writer, ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
    const deadline = Date.now() + 10_000;
    while (arrivals.length < WATCHES && Date.now() < deadline) await sleep(5);
    if (arrivals.length < WATCHES) throw new Error(`${label}: only ${arrivals.length}/${WATCHES} watches saw ${name}`);
    for (const a of arrivals) delays.push(a - t0);
  }
  close();
  return delays;
}

function post(t: Target, p: string, body: unknown): Promise<void> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(`${t.base}${p}`, { method: 'POST', agent: t.agent, headers: { ...t.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`POST ${p}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

// DROVER_BENCH_PROXY_PROF=DIR: CPU profiles of the drover server and agent over the GET rounds
// and over the fan-out (DIR/{server,agent}-{get,fanout}.cpuprofile; bench/profile-top.ts reads them).
const PROF = process.env.DROVER_BENCH_PROXY_PROF;
/** The inspector URL each profiled child printed, by pid. */
const inspectors = new Map<number, string>();

function run(args: string[], profiled = false): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, DROVER_LOG_LEVEL: 'warn' };
  if (profiled && PROF) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:0`.trim();
  const child = spawn(DROVER, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  if (profiled && PROF) {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const url = inspectorUrl(err);
      if (url && child.pid !== undefined) inspectors.set(child.pid, url);
    });
  }
  return child;
}

/** Profiles the profiled children while `work` runs (nothing without DROVER_BENCH_PROXY_PROF). */
async function profiled<T>(name: string, pids: Record<string, number | undefined>, work: () => Promise<T>): Promise<T> {
  if (!PROF) return work();
  const running = await Promise.all(Object.entries(pids).map(async ([who, pid]) => {
    const url = pid === undefined ? undefined : inspectors.get(pid);
    return url ? { who, p: await startProfile(url) } : undefined;
  }));
  try {
    return await work();
  } finally {
    for (const r of running) if (r) await r.p.stop(path.join(PROF, `${r.who}-${name}.cpuprofile`));
  }
}

async function drover(args: string[]): Promise<string> {
  const p = run(args);
  let out = '';
  let err = '';
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => p.on('exit', r));
  if (code !== 0) throw new Error(`drover ${args.join(' ')}: ${err}`);
  return out.trim();
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drover-bench-proxy-'));
  const cluster = await startCluster({ nodes: 1 });
  const procs: ChildProcess[] = [];
  try {
    const serverDir = path.join(dir, 'server');
    const server = run(['server', '--data-dir', serverDir, '--listen', '127.0.0.1:0'], true);
    procs.push(server);
    let record: { url: string; caFile: string } | undefined;
    for (let i = 0; i < 200 && !record; i++) {
      await sleep(100);
      try {
        record = JSON.parse(readFileSync(path.join(serverDir, 'server.json'), 'utf8')) as { url: string; caFile: string };
      } catch {
        // not written yet
      }
    }
    if (!record) throw new Error('server did not start');
    const token = await drover(['token', 'create', '--data-dir', serverDir, '--labels', 'bench=proxy']);
    const agentDir = path.join(dir, 'agent');
    await drover(['agent', 'register', '--server', record.url, '--token', token, '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
    const agent = run(['agent', 'run', '--roles', 'cluster', '--data-dir', agentDir], true);
    procs.push(agent);
    const status = JSON.parse(await drover(['agent', 'status', '--json', '--data-dir', agentDir])) as { clusterId: string };
    const admin = readFileSync(path.join(serverDir, 'admin-token'), 'utf8').trim();
    const ca = readFileSync(record.caFile, 'utf8');
    const proxied: Target = { base: `${record.url}/k8s/clusters/${status.clusterId}`, agent: new https.Agent({ keepAlive: true, ca }), headers: { authorization: `Bearer ${admin}` } };
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const direct: Target = {
      base: kc.getCurrentCluster()?.server ?? '',
      agent: new https.Agent({ keepAlive: true, ca: opts.ca, cert: opts.cert, key: opts.key }),
      headers: (opts.headers as Record<string, string> | undefined) ?? {},
    };
    const obj = '/api/v1/namespaces/default';
    for (let i = 0; i < 100; i++) {
      if ((await get(proxied, obj).catch(() => ({ status: 0 }))).status === 200) break;
      await sleep(200);
    }
    // Warm-up both paths (TLS sessions, JIT), then interleaved rounds.
    await latency(direct, obj, 50);
    await latency(proxied, obj, 50);
    const d: number[] = [];
    const p: number[] = [];
    // CPU of the drover server and agent processes (/proc, 10 ms ticks): steady on a shared
    // machine where wall-clock latency is not. Idle work (heartbeats) is included; it is tiny.
    const droverPids = [server.pid, agent.pid].filter((x): x is number => x !== undefined);
    const droverCpu = (): number => droverPids.reduce((a, pid) => a + processCpuMs(pid), 0);
    let getCpuMs = 0;
    const roles = { server: server.pid, agent: agent.pid };
    await profiled('get', roles, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        d.push(...(await latency(direct, obj, GETS_PER_ROUND)));
        const c0 = droverCpu();
        p.push(...(await latency(proxied, obj, GETS_PER_ROUND)));
        getCpuMs += droverCpu() - c0;
      }
    });
    const directFan = await fanOut(direct, direct, 'direct');
    const f0 = droverCpu();
    const proxiedFan = await profiled('fanout', roles, () => fanOut(proxied, direct, 'proxied'));
    const fanCpuMs = droverCpu() - f0;
    const results = {
      machine,
      get: { direct: summarize(d), proxied: summarize(p) },
      watchFanOut: { watches: WATCHES, events: EVENTS, direct: summarize(directFan), proxied: summarize(proxiedFan) },
      droverCpu: { perGetUs: (getCpuMs * 1000) / p.length, perWatchEventUs: (fanCpuMs * 1000) / (WATCHES * EVENTS) },
      warning: busyWarning(machine.cores, machine.loadAtStart, os.loadavg()[0] ?? 0) ?? null,
    };
    if (JSON_OUT) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    else report(results);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await sleep(500);
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (x: number): string => `${x.toFixed(2)} ms`;

/** Issue 12's budgets: overhead over direct, same run. */
const BUDGET = { getP50Ms: 0.5, getP99Ms: 2, fanOutP50Ms: 1 } as const;
const verdict = (overhead: number, budget: number): string => `${overhead <= budget ? 'PASS' : 'MISS'} (≤ +${budget} ms)`;
function line(name: string, base: LatencySummary, via: LatencySummary): string {
  return `${name.padEnd(34)} p50 ${ms(base.p50).padStart(10)} → ${ms(via.p50).padStart(10)} (+${ms(via.p50 - base.p50)})   p99 ${ms(base.p99).padStart(10)} → ${ms(via.p99).padStart(10)} (+${ms(via.p99 - base.p99)})`;
}

function report(r: {
  machine: ReturnType<typeof describeMachine>;
  get: { direct: LatencySummary; proxied: LatencySummary };
  watchFanOut: { watches: number; events: number; direct: LatencySummary; proxied: LatencySummary };
  droverCpu: { perGetUs: number; perWatchEventUs: number };
  warning: string | null;
}): void {
  const m = r.machine;
  const out = [
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}, node ${m.node}, load ${m.loadAtStart.toFixed(2)}`,
    `figures: direct to kube-apiserver → through drover (server + tunnel + cluster agent), same run`,
    line(`GET namespace (${r.get.direct.count} each)`, r.get.direct, r.get.proxied),
    line(`watch fan-out ${r.watchFanOut.watches}×${r.watchFanOut.events} events`, r.watchFanOut.direct, r.watchFanOut.proxied),
    `drover server + agent CPU: ${r.droverCpu.perGetUs.toFixed(0)} µs per proxied GET, ${r.droverCpu.perWatchEventUs.toFixed(0)} µs per watch event delivered (fan-out phase, incl. watch setup)`,
    `budgets: GET p50 ${verdict(r.get.proxied.p50 - r.get.direct.p50, BUDGET.getP50Ms)}, GET p99 ${verdict(r.get.proxied.p99 - r.get.direct.p99, BUDGET.getP99Ms)}, fan-out p50 ${verdict(r.watchFanOut.proxied.p50 - r.watchFanOut.direct.p50, BUDGET.fanOutP50Ms)}`,
  ];
  if (r.warning) out.push(r.warning);
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
