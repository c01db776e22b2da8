// Watch-drift figures for issue 12: how long the fleet agent takes to restore a deleted object when
// it watches (drift-watch.ts) vs when it only polls (the 15 s pass, the baseline), and what the
// watch costs idle, with 500 and with 5,000 objects. Run: `node bench/drift.ts [--sizes 500,5000]
// [--watch-samples 5] [--poll-samples 3] [--idle-s 30]`.
// A harness control plane; the fleet agent runs in this process (so its CPU is this process's,
// measured over idle windows in which the driver does nothing) on an in-memory database. For each
// size: one deployment of N ConfigMaps in one namespace with correctDrift; then, with the watch on,
// an idle window and `--watch-samples` deletions; then the same agent database with the watch off
// (poll only, default 15 s interval): an idle window and `--poll-samples` deletions. A deletion is
// timed from the DELETE request to the first GET (every 10 ms, own client) that finds a new uid.
import os from 'node:os';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startCluster } from '../test/k8s/harness.ts';
import { createHttpsKube } from '../agents/fleet/kube-https.ts';
import { createFleetAgent, type FleetAgent } from '../agents/fleet/fleet-agent.ts';
import { configMap, desired, memoryDb, namespace, until } from '../agents/fleet/test-fixtures.ts';
import type { Kube } from '../agents/fleet/kube.ts';
import { describeMachine } from './lib/machine.ts';

const { values } = parseArgs({ options: {
  sizes: { type: 'string', default: '500,5000' },
  'watch-samples': { type: 'string', default: '5' },
  'poll-samples': { type: 'string', default: '3' },
  'idle-s': { type: 'string', default: '30' },
} });
const SIZES = values.sizes.split(',').map(Number);
const WATCH_SAMPLES = Number(values['watch-samples']);
const POLL_SAMPLES = Number(values['poll-samples']);
const IDLE_MS = Number(values['idle-s']) * 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (b: number): string => (b / 2 ** 20).toFixed(0);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

interface Idle { cpuPct: number; rssMiB: string; heapMiB: string }

async function idleWindow(): Promise<Idle> {
  global.gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(IDLE_MS);
  const c = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  const m = process.memoryUsage();
  return { cpuPct: ((c.user + c.system) / 1000 / ms) * 100, rssMiB: mib(m.rss), heapMiB: mib(m.heapUsed) };
}

async function restoreMs(driver: Kube, ns: string, name: string): Promise<number> {
  const ref = { group: '', version: 'v1', kind: 'ConfigMap', namespace: ns, name };
  const uid = (await driver.get(ref))?.metadata.uid;
  const t0 = performance.now();
  await driver.delete(ref);
  for (;;) {
    const o = await driver.get(ref);
    if (o !== undefined && o.metadata.uid !== uid) return performance.now() - t0;
    await sleep(10);
  }
}

async function main(): Promise<void> {
  const m = describeMachine();
  console.log(`machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.kernel}, node ${m.node}; load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const cluster = await startCluster();
  const rows: string[] = [];
  try {
    const driver = await createHttpsKube(cluster.kubeconfig);
    for (const n of SIZES) {
      const ns = `drift-${n}`;
      const db = memoryDb();
      // n objects in all: the Namespace and n - 1 ConfigMaps (MAX_OBJECTS_PER_DEPLOYMENT is 5,000).
      const manifests = [namespace(ns), ...Array.from({ length: n - 1 }, (_, i) => configMap(`cm-${i}`, ns, { i: String(i), payload: 'x'.repeat(256) }))];
      const start = async (watchDrift: boolean): Promise<{ agent: FleetAgent; kube: Kube }> => {
        const kube = await createHttpsKube(cluster.kubeconfig);
        const agent = createFleetAgent({ db, kube, log: pino({ level: 'silent' }), watchDrift });
        agent.start();
        return { agent, kube };
      };
      const rss0 = process.memoryUsage().rss;
      const w = await start(true);
      const t0 = performance.now();
      w.agent.accept(desired(ns, 'r1', manifests, { correctDrift: true }));
      await until('Ready', async () => {
        await sleep(500);
        const last = w.agent.store.outbox.peek(100_000).filter((r) => r.deploymentId === ns).at(-1)?.status.state;
        return last === 'Ready' && (w.agent.driftWatch()?.objects ?? 0) >= n ? true : undefined;
      }, 600_000, 500);
      console.log(`${n} objects: applied and Ready in ${((performance.now() - t0) / 1000).toFixed(1)} s; watches: ${w.agent.driftWatch()?.scopes}`);
      await sleep(2_000);
      const idleWatch = await idleWindow();
      const watchMs: number[] = [];
      for (let i = 0; i < WATCH_SAMPLES; i++) {
        watchMs.push(await restoreMs(driver, ns, `cm-${(i * 97) % (n - 1)}`));
        await sleep(300);
      }
      const stats = w.agent.driftWatch();
      await w.agent.stop();
      w.kube.close();
      const p = await start(false);
      await sleep(2_000);
      const idlePoll = await idleWindow();
      const pollMs: number[] = [];
      for (let i = 0; i < POLL_SAMPLES; i++) pollMs.push(await restoreMs(driver, ns, `cm-${(i * 89 + 1) % (n - 1)}`));
      await p.agent.stop();
      p.kube.close();
      const load = os.loadavg()[0]!.toFixed(2);
      rows.push(`| ${n} | ${median(watchMs).toFixed(0)} ms (${watchMs.map((x) => x.toFixed(0)).join(', ')}) | ${(median(pollMs) / 1000).toFixed(1)} s (${pollMs.map((x) => (x / 1000).toFixed(1)).join(', ')}) | ${(median(pollMs) / median(watchMs)).toFixed(0)}× | ${stats?.scopes} | ${idleWatch.cpuPct.toFixed(2)} % / ${idlePoll.cpuPct.toFixed(2)} % | ${idleWatch.rssMiB} / ${idlePoll.rssMiB} MiB (before: ${mib(rss0)}) | ${stats?.reapplied}/${stats?.resyncs} | ${load} |`);
      console.log(rows.at(-1));
    }
    driver.close();
  } finally {
    await cluster.stop();
  }
  console.log('\n| objects | restore, watch (median; samples) | restore, poll only (baseline) | ratio | watches | agent CPU idle, watch / poll (% of a core) | process RSS, watch / poll | re-applied / resyncs | load 1 min |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await main();
