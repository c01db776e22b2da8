// The plan records' contract (decision 1110), run against both implementations: the data dir's own
// plans.db (SqlitePlanStore) and the server's PostgreSQL database (PgPlanStore on the main store's
// pool, Debian's PostgreSQL started by test/pg/harness.ts). Same calls, same answers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startPostgres, type Postgres } from '../../test/pg/harness.ts';
import { PgStore } from '../store/pg-store.ts';
import { PgPlanStore } from '../store/pg-plan-store.ts';
import type { NodeResult, PlanStore } from './plan-store.ts';
import { SqlitePlanStore } from './sqlite-plan-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'drover-plan-store-'));
let pg: Promise<Postgres> | undefined;
const closers: (() => Promise<void>)[] = [];
t.teardown(async () => {
  for (const c of closers.reverse()) await c();
  if (pg) await (await pg).stop();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const backends: { name: string; open(): Promise<PlanStore>; pair?(): Promise<[PlanStore, PlanStore]> }[] = [
  {
    name: 'sqlite',
    async open() {
      const s = new SqlitePlanStore(join(dir, `p${++n}.db`));
      closers.push(() => s.close());
      return s;
    },
  },
  {
    name: 'postgres',
    async open() {
      return (await this.pair?.())?.[0] as PlanStore;
    },
    async pair() {
      pg ??= startPostgres();
      const url = await (await pg).createDatabase();
      // Two pools on one database: two replicas.
      const [a, b] = [await PgStore.open(url), await PgStore.open(url)];
      closers.push(() => a.close(), () => b.close());
      return [new PgPlanStore(a.db), new PgPlanStore(b.db)];
    },
  },
];

const result = (plan: string, checksum: string, state: NodeResult['state'], step?: NodeResult['step']): NodeResult => ({
  plan, checksum, state, instruction: null, exitCode: state === 'Failed' ? 3 : null, message: state, since: '2026-12-05T10:00:00Z', ...(step ? { step } : {}),
});

for (const backend of backends) {
  t.test(backend.name, async (t) => {
    t.test('plans: put, read, replace, control', async (t) => {
      const s = await backend.open();
      const g0 = s.generation;
      await s.putPlan({ name: 'motd', checksum: 'c1', document: { kind: 'Plan', steps: [1] }, target: 'env=prod', concurrency: '25%', maxFailures: 2, window: 'Sat 02:00-04:00' }, 1000);
      await s.putPlan({ name: 'aaa', checksum: 'c9', document: {}, target: '', concurrency: '1', maxFailures: 0, window: null }, 1001);
      t.ok(s.generation > g0, 'a write changes the generation');
      t.same((await s.plans()).map((p) => p.name), ['aaa', 'motd'], 'listed by name');
      t.same(await s.plan('motd'), {
        name: 'motd', checksum: 'c1', document: { kind: 'Plan', steps: [1] }, target: 'env=prod', concurrency: '25%', maxFailures: 2, failureBase: 0,
        window: 'Sat 02:00-04:00', paused: false, canceled: false, createdAt: 1000, updatedAt: 1000,
      });
      t.equal(await s.plan('nope'), undefined);
      t.equal(await s.control('motd', 'pause', 0, 1100), true);
      t.equal((await s.plan('motd'))?.paused, true);
      t.equal(await s.control('motd', 'resume', 4, 1200), true);
      t.match(await s.plan('motd'), { paused: false, failureBase: 4, updatedAt: 1200 });
      t.equal(await s.control('motd', 'cancel', 0, 1300), true);
      t.equal((await s.plan('motd'))?.canceled, true);
      t.equal(await s.control('nope', 'pause', 0, 1300), false, 'no such plan');
      await s.putPlan({ name: 'motd', checksum: 'c2', document: { v: 2 }, target: 'env=dev', concurrency: '1', maxFailures: 0, window: null }, 2000);
      t.match(await s.plan('motd'), { checksum: 'c2', target: 'env=dev', window: null, paused: false, canceled: false, failureBase: 0, createdAt: 1000, updatedAt: 2000 }, 'a new checksum starts over');
    });

    t.test('assignments follow the current checksum', async (t) => {
      const s = await backend.open();
      await s.putPlan({ name: 'p', checksum: 'c1', document: {}, target: '', concurrency: '1', maxFailures: 0, window: null }, 1);
      await s.assign('p', ['n2', 'n1'], 'c1', 10);
      await s.assign('p', [], 'c1', 11);
      t.same([...(await s.assignments())].map(([k, v]) => [k, [...v]]).sort(), [['n1', [['p', 'c1']]], ['n2', [['p', 'c1']]]]);
      t.same((await s.nodes('p')).map((r) => [r.nodeId, r.assigned, r.state, r.reports]), [['n1', 'c1', null, 0], ['n2', 'c1', null, 0]], 'nodes ordered by id');
      await s.putPlan({ name: 'p', checksum: 'c2', document: {}, target: '', concurrency: '1', maxFailures: 0, window: null }, 2);
      t.same([...(await s.assignments())], [], 'assignments of an old checksum are not delivered');
      await s.assign('p', ['n1'], 'c2', 20);
      t.same([...(await s.assignments())].map(([k, v]) => [k, [...v]]), [['n1', [['p', 'c2']]]]);
    });

    t.test('results: in sequence order, each outbox row once, steps merged per checksum', async (t) => {
      const s = await backend.open();
      const step = (label: string, exitCode: number | null, output: string) => ({ label, exitCode, output, runs: 1 });
      t.equal(await s.lastSeq('a1'), 0);
      const stored = await s.recordResults('a1', 'n1', [
        { seq: 2, result: result('p', 'c1', 'InProgress', step('b', null, 'bee')) },
        { seq: 1, result: result('p', 'c1', 'InProgress', step('a', 0, 'ay')) },
      ]);
      t.equal(stored, 2);
      t.equal(await s.lastSeq('a1'), 2);
      t.equal(await s.recordResults('a1', 'n1', [{ seq: 1, result: result('p', 'c1', 'Failed') }, { seq: 2, result: result('p', 'c1', 'Failed') }]), 0, 'a resent batch stores nothing');
      t.equal(await s.recordResults('a1', 'n1', [{ seq: 2, result: result('p', 'c1', 'Failed') }, { seq: 3, result: result('p', 'c1', 'Succeeded', step('b', 0, 'x'.repeat(70 * 1024))) }]), 1, 'only the new row of a partly resent batch');
      const [row] = await s.nodePlans('n1');
      t.match(row, { plan: 'p', nodeId: 'n1', state: 'Succeeded', checksum: 'c1', exitCode: null, message: 'Succeeded', reports: 3, assigned: null });
      t.same(Object.keys(row?.steps ?? {}).sort(), ['a', 'b'], 'steps of one checksum are merged');
      t.same(row?.steps.a, { exitCode: 0, output: 'ay', runs: 1 });
      t.equal(row?.steps.b?.output.length, 64 * 1024, 'the last 64 KiB of a step output');
      t.equal(row?.steps.b?.exitCode, 0);
      await s.recordResults('a1', 'n1', [{ seq: 4, result: result('p', 'c2', 'Failed', step('c', 1, 'no')) }]);
      const [next] = await s.nodePlans('n1');
      t.same(next?.steps, { c: { exitCode: 1, output: 'no', runs: 1 } }, 'a new checksum replaces the steps');
      t.equal(next?.exitCode, 3);
      await s.recordResults('a2', 'n1', [{ seq: 1, result: result('q', 'k', 'InProgress', step('s', null, '')) }]);
      t.same((await s.nodePlans('n1')).map((r) => r.plan), ['p', 'q'], 'a node\'s plans, by name');
      t.same((await s.nodePlans('n1'))[1]?.steps, { s: { exitCode: null, output: '', runs: 1 } }, 'a null exit code reads null');
      t.equal(await s.lastSeq('a2'), 1, 'sequences are per agent');
    });

    t.test('one batch with several plans and a checksum change inside it reads as the results one by one', async (t) => {
      const s = await backend.open();
      const step = (label: string) => ({ label, exitCode: 0, output: label, runs: 1 });
      await s.assign('p', ['n1'], 'c1', 1);
      t.equal(await s.recordResults('a1', 'n1', [
        { seq: 3, result: result('p', 'c1', 'InProgress', step('b')) },
        { seq: 1, result: result('p', 'c1', 'InProgress', step('a')) },
        { seq: 2, result: result('q', 'k1', 'Succeeded', step('x')) },
        { seq: 4, result: result('p', 'c2', 'Failed', step('c')) },
        { seq: 5, result: result('p', 'c2', 'Failed', step('d')) },
      ]), 5);
      const [p, q] = await s.nodePlans('n1');
      t.match(p, { plan: 'p', assigned: 'c1', checksum: 'c2', state: 'Failed', reports: 4 }, 'the assignment stays, the latest result wins, one report per result');
      t.same(Object.keys(p?.steps ?? {}).sort(), ['c', 'd'], 'steps from before the checksum changed are gone, later ones merged');
      t.match(q, { plan: 'q', checksum: 'k1', state: 'Succeeded', reports: 1, steps: { x: { output: 'x' } } });
    });

    t.test('node clocks', async (t) => {
      const s = await backend.open();
      await s.putClock('n1', 60, 1);
      await s.putClock('n2', -300, 1);
      await s.putClock('n1', 120, 2);
      t.same([...(await s.clocks())].sort(), [['n1', 120], ['n2', -300]]);
    });

    if (backend.pair) {
      t.test('two replicas store one outbox batch once', async (t) => {
        const [a, b] = (await backend.pair?.()) ?? [];
        if (!a || !b) throw new Error('no pair');
        const rows = Array.from({ length: 20 }, (_, i) => ({ seq: i + 1, result: result('p', 'c1', i === 19 ? 'Succeeded' : 'InProgress') }));
        const stored = await Promise.all([a.recordResults('a1', 'n1', rows), b.recordResults('a1', 'n1', rows), a.recordResults('a1', 'n1', rows.slice(5))]);
        t.equal(stored.reduce((x, y) => x + y, 0), 20, 'each row stored by exactly one of them');
        t.match((await b.nodePlans('n1'))[0], { state: 'Succeeded', reports: 20 });
        t.ok(a.shared && b.shared, 'the store says it is shared (the scheduler re-reads every cycle)');
        await a.putPlan({ name: 'x', checksum: 'c', document: {}, target: '', concurrency: '1', maxFailures: 0, window: null }, 1);
        t.equal((await b.plan('x'))?.checksum, 'c', 'a plan put through one is read through the other');
      });
    }
  });
}
