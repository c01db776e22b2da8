// Leases on a real SQLite store with a hand-moved clock: one holder at a time, the singleton
// starts where the lease is gained and stops where it is lost, a dead holder's lease moves once it
// expires, a clean stop hands it over at once.
import t from 'tap';
import pino from 'pino';
import { SqliteStore } from '../store/sqlite-store.ts';
import { ManualClock } from '../../protocol/index.ts';
import { LeaseRunner } from './leases.ts';
import { HA_TIMINGS } from './limits.ts';

t.test('leases: a singleton runs on one replica and moves when its holder stops renewing', async (t) => {
  const store = new SqliteStore(':memory:');
  t.teardown(() => store.close());
  let now = 1_000_000;
  const running = new Map<string, boolean>();
  const runner = (holder: string) => {
    const r = new LeaseRunner({ store: store.replicas, holder, now: () => now, timers: new ManualClock(), timings: HA_TIMINGS, log: pino({ level: 'silent' }) });
    r.add({ name: 'git-polling', start: () => running.set(holder, true), stop: () => void running.set(holder, false) });
    return r;
  };
  const a = runner('a');
  const b = runner('b');
  await a.tick();
  await b.tick();
  t.same([a.held(), b.held()], [['git-polling'], []]);
  t.same(Object.fromEntries(running), { a: true });

  now += HA_TIMINGS.leaseTtlMs - 1;
  await b.tick();
  t.same(b.held(), [], 'not before the lease expires');
  now += 2;
  await b.tick();
  t.same(b.held(), ['git-polling'], 'a stopped renewing (dead): b takes it');
  await a.tick();
  t.same(a.held(), [], 'a, back, learns it lost the lease');
  t.same(Object.fromEntries(running), { a: false, b: true }, 'and stops its singleton');

  await b.stop();
  t.same(Object.fromEntries(running), { a: false, b: false });
  await a.tick();
  t.same(a.held(), ['git-polling'], 'a clean stop hands the lease over at once');
  t.equal((await store.replicas.getLease('git-polling'))?.epoch, 3, 'the epoch counts holders');
});

t.test('leases: a clean release is announced, and a hint makes another replica take it without waiting for its beat', async (t) => {
  const store = new SqliteStore(':memory:');
  t.teardown(() => store.close());
  const released: string[] = [];
  const running = new Set<string>();
  const runner = (holder: string) => {
    const r = new LeaseRunner({
      store: store.replicas, holder, now: () => 5_000_000, timers: new ManualClock(), timings: HA_TIMINGS, log: pino({ level: 'silent' }),
      released: (name) => released.push(`${holder}:${name}`),
    });
    r.add({ name: 'git-polling', start: () => running.add(holder), stop: () => void running.delete(holder) });
    return r;
  };
  const a = runner('a');
  const b = runner('b');
  await a.tick();
  await b.tick();
  t.same(b.held(), []);
  await a.stop();
  t.same(released, ['a:git-polling'], 'the release is announced (the hint sent to the other replicas)');
  void b.tickSoon();
  await b.tickSoon();
  t.same(b.held(), ['git-polling'], 'b took the lease on the hint (no beat ran: its timers never fired)');
  t.same([...running], ['b']);
  await b.stop();
  t.same(released, ['a:git-polling', 'b:git-polling'], 'and released it on stop');
  t.same([...running], [], 'nothing left running');
});
