// Figure for issue 6: how long the fleet agent takes to reconcile 500 cached resources against a
// freshly restarted kube-apiserver. Run: `node bench/fleet-reconcile.ts [--objects N]`.
// It starts a harness control plane, applies one deployment of N objects (a Namespace, 10
// Deployments, the rest ConfigMaps), restarts only the kube-apiserver (etcd keeps the data), and
// times (a) a pass against the warm apiserver (baseline), (b) the first full pass once the new
// apiserver answers, with a cold client (fresh discovery, new TLS connections), as an agent
// restarted with it would, (c) the same with the agent's warm client, (d) a looping agent: from
// the apiserver process start to its first clean pass. Prints the machine.
import { cpus, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startCluster } from '../test/k8s/harness.ts';
import { readState } from '../test/k8s/cluster.ts';
import { startDetached, stopAll } from '../test/k8s/processes.ts';
import { createFleetStore } from '../agents/fleet/store.ts';
import { createHttpsKube } from '../agents/fleet/kube-https.ts';
import { reconcileOnce, type ReconcilerDeps } from '../agents/fleet/reconciler.ts';
import { configMap, deploymentObj, desired, memoryDb, namespace, until } from '../agents/fleet/test-fixtures.ts';
import type { Kube } from '../agents/fleet/kube.ts';

const { values } = parseArgs({ options: { objects: { type: 'string', default: '500' } } });
const N = Number(values.objects);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function restartApiserver(dir: string, onStart?: () => void): Promise<void> {
  const state = readState(dir)!;
  const i = state.procs.findIndex((p) => p.name === 'kube-apiserver');
  const old = state.procs[i]!;
  const argv = readFileSync(`/proc/${old.pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  await stopAll([old]);
  onStart?.();
  state.procs[i] = startDetached('kube-apiserver', argv[0]!, argv.slice(1), join(dir, 'logs'), old.marker);
  // Keep the harness's record current, so its stop() ends the new process too.
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(state, null, 2));
}

async function main(): Promise<void> {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  const cluster = await startCluster();
  try {
    const store = createFleetStore(memoryDb());
    const manifests = [namespace('bench'), ...Array.from({ length: 10 }, (_, i) => deploymentObj(`web-${i}`, 'bench', 1)),
      ...Array.from({ length: N - 11 }, (_, i) => configMap(`cm-${i}`, 'bench', { i: String(i), payload: 'x'.repeat(256) }))];
    store.acceptDesired(desired('bench', 'r1', manifests, { correctDrift: true }));
    const log = pino({ level: 'silent' });
    const deps = (kube: Kube): ReconcilerDeps => ({ store, kube, now: () => new Date(), log });
    const warm = await createHttpsKube(cluster.kubeconfig);
    let t0 = performance.now();
    await reconcileOnce(deps(warm));
    console.log(`initial apply of ${N} objects: ${(performance.now() - t0).toFixed(0)} ms`);
    await until('Ready', async () => ((await reconcileOnce(deps(warm))).deployments[0]?.state === 'Ready' ? true : undefined), 120_000);
    const base: number[] = [];
    for (let i = 0; i < 3; i++) {
      t0 = performance.now();
      await reconcileOnce(deps(warm));
      base.push(performance.now() - t0);
    }
    console.log(`baseline pass, warm apiserver and client: ${base.map((b) => b.toFixed(0)).join(', ')} ms`);

    for (const mode of ['cold client', 'warm client'] as const) {
      await restartApiserver(cluster.dir);
      const probe = await createHttpsKube(cluster.kubeconfig);
      await until('apiserver ready', async () => {
        try { return (await probe.get({ group: '', version: 'v1', kind: 'Namespace', namespace: '', name: 'bench' })) ? true : undefined; } catch { await sleep(50); return undefined; }
      }, 120_000, 50);
      probe.close();
      const kube = mode === 'cold client' ? await createHttpsKube(cluster.kubeconfig) : warm;
      t0 = performance.now();
      const r = await reconcileOnce(deps(kube));
      const ms = performance.now() - t0;
      const d = r.deployments[0];
      console.log(`first pass after the apiserver restart (${mode}): ${ms.toFixed(0)} ms, state ${d?.state ?? '-'}${d?.error ? `, error ${d.error}` : ''}, corrected ${d?.corrected.length ?? 0}`);
      if (kube !== warm) kube.close();
    }
    // (d) An agent that keeps looping (every 100 ms) through the restart: from the moment the new
    // apiserver process is started to the first pass with no error.
    let cleanAt: number | undefined;
    let restartedAt = Infinity;
    const { createReconciler } = await import('../agents/fleet/reconciler.ts');
    const loop = createReconciler({ ...deps(warm), intervalMs: 100, onPass: (r) => {
      if (cleanAt === undefined && performance.now() > restartedAt && r.deployments.every((d) => d.error === undefined)) cleanAt = performance.now();
    } });
    loop.start();
    await restartApiserver(cluster.dir, () => { restartedAt = performance.now(); });
    await until('a clean pass', async () => cleanAt, 120_000, 20);
    await loop.stop();
    console.log(`looping agent: apiserver process start → first clean pass over ${N} objects: ${(cleanAt! - restartedAt).toFixed(0)} ms (includes the apiserver's own start-up)`);
    warm.close();
  } finally {
    await cluster.stop();
  }
}

await main();
