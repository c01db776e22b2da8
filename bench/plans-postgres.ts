// Issue 17 (decision 1110/1112): the plan scheduler's cycle on PostgreSQL against SQLite. With a
// shared store the scheduling replica decides every cycle (1 s), so its cost per cycle is the
// figure: replan (plans, per-plan node rows, assign) over N nodes with one plan, the delivery
// loop's assignments read, and one outbox drain batch of 200 results stored.
//   node bench/plans-postgres.ts [--nodes N]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PlanService } from '../server-lite/plans/plan-service.ts';
import type { PlanStore } from '../server-lite/plans/plan-store.ts';
import type { NodeTargetInfo } from '../server-lite/plans/plan-view.ts';
import { PgPlanStore } from '../server-lite/store/pg-plan-store.ts';
import { PgStore } from '../server-lite/store/pg-store.ts';
import { startPostgres } from '../test/pg/harness.ts';

const arg = process.argv.indexOf('--nodes');
const NODES = arg > 0 ? Number(process.argv[arg + 1]) : 1000;
const nodes: NodeTargetInfo[] = Array.from({ length: NODES }, (_, i) => ({ id: `n-${String(i).padStart(6, '0')}`, name: `h${i}`, clusterId: `c-${i}`, clusterName: `c${i}`, clusterLabels: { site: 'lab' }, facts: {} }));
const online = new Set(nodes.map((n) => n.id));
const DOC = { apiVersion: 'drover.dev/v1', kind: 'Plan', instructions: [{ command: '/bin/true', timeout: '5s' }] };

async function median(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? 0;
}

async function run(name: string, dir: string, store: PlanStore | undefined): Promise<Record<string, number>> {
  mkdirSync(dir, { recursive: true });
  const svc = new PlanService({ dataDir: dir, log: pino({ level: 'silent' }), now: () => Date.now(), nodes: async () => nodes, sessions: () => [], store });
  await svc.apply({ name: 'bench', document: DOC, target: 'site=lab', concurrency: '10%' });
  // Half the nodes finished: the planner has slots and rows to read, as mid-rollout.
  let seq = 0;
  const finished = nodes.slice(0, NODES / 2);
  for (let i = 0; i < finished.length; i += 200) {
    for (const n of finished.slice(i, i + 200)) {
      await svc.store.recordResults(`a-${n.id}`, n.id, [{ seq: ++seq, result: { plan: 'bench', checksum: (await svc.store.plan('bench'))?.checksum ?? '', state: 'Succeeded', instruction: null, exitCode: 0, message: '', since: 'x' } }]);
    }
  }
  const replan = await median(30, () => svc.replan(online, new Map()));
  const assignments = await median(30, () => svc.store.assignments());
  const batch = await median(20, (k) => svc.store.recordResults('a-drain', 'n-drain', Array.from({ length: 200 }, (_, j) => ({ seq: k * 200 + j + 1, result: { plan: `p${j % 5}`, checksum: 'c', state: 'InProgress' as const, instruction: null, exitCode: null, message: '', since: 'x' } }))));
  await svc.stop();
  console.log(`${name}: replan ${replan.toFixed(2)} ms, assignments ${assignments.toFixed(2)} ms, 200-result batch ${batch.toFixed(2)} ms`);
  return { replan, assignments, batch };
}

const dir = mkdtempSync(join(tmpdir(), 'drover-bench-plans-'));
const pg = await startPostgres();
try {
  console.log(`nodes ${NODES}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const s = await run('sqlite', join(dir, 's'), undefined);
  const store = await PgStore.open(await pg.createDatabase());
  const p = await run('postgres', join(dir, 'p'), new PgPlanStore(store.db));
  await store.close();
  for (const k of Object.keys(s)) console.log(`${k}: postgres/sqlite ${((p[k] ?? 0) / (s[k] ?? 1)).toFixed(1)}×`);
  console.log(`load average after ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
