// The keep-alive pool's bookkeeping (decision 1200): newest idle item first, bounded per key,
// closed after the idle timeout (ManualClock), forgotten when it goes bad on its own.
import t from 'tap';
import { IdlePool } from './idle-pool.ts';
import { ManualClock } from './manual-clock.ts';

function pool(maxIdlePerKey = 2, idleTimeoutMs = 1000) {
  const clock = new ManualClock();
  const closed: string[] = [];
  const p = new IdlePool<string, string>({ maxIdlePerKey, idleTimeoutMs, clock, close: (s) => closed.push(s) });
  return { p, clock, closed };
}

t.test('idle pool: take gives the most recently idled item of the key, once', async (t) => {
  const { p } = pool(3);
  t.equal(p.take('a'), undefined, 'empty');
  p.put('a', 'a1');
  p.put('a', 'a2');
  p.put('b', 'b1');
  t.equal(p.idleCount(), 3);
  t.equal(p.take('a'), 'a2', 'newest first: the older ones age out');
  t.equal(p.take('a'), 'a1');
  t.equal(p.take('a'), undefined, 'an item in use is not handed out twice');
  t.equal(p.idleCount('b'), 1);
});

t.test('idle pool: at the bound the oldest idle item is closed', async (t) => {
  const { p, closed } = pool(2);
  t.ok(p.put('a', 'a1'));
  t.ok(p.put('a', 'a2'));
  t.ok(p.put('a', 'a3'));
  t.same(closed, ['a1']);
  t.equal(p.idleCount('a'), 2);
  t.ok(p.put('b', 'b1'), 'the bound is per key');
  t.same(closed, ['a1']);
});

t.test('idle pool: an item idle for the timeout is closed; taking it stops its timer', async (t) => {
  const { p, clock, closed } = pool(4, 1000);
  p.put('a', 'a1');
  clock.advance(500);
  p.put('a', 'a2');
  clock.advance(499);
  t.same(closed, [], 'not yet');
  clock.advance(1);
  t.same(closed, ['a1'], 'a1 idle 1000 ms');
  t.equal(p.take('a'), 'a2');
  clock.advance(10_000);
  t.same(closed, ['a1'], 'an item in use is never timed out');
  t.equal(clock.pending(), 0, 'no timer left behind');
  p.put('a', 'a2');
  clock.advance(999);
  t.same(closed, ['a1'], 'the idle time starts again at each put');
  clock.advance(1);
  t.same(closed, ['a1', 'a2']);
  t.equal(p.idleCount(), 0);
});

t.test('idle pool: remove forgets an idle item without closing it; unknown items are ignored', async (t) => {
  const { p, clock, closed } = pool();
  p.put('a', 'a1');
  t.ok(p.remove('a1'));
  t.notOk(p.remove('a1'));
  t.notOk(p.remove('zz'));
  t.equal(p.take('a'), undefined, 'a removed item is never handed out');
  clock.advance(5000);
  t.same(closed, [], 'nor closed by its old timer');
  t.equal(clock.pending(), 0);
});

t.test('idle pool: a second put of an idle item changes nothing', async (t) => {
  const { p } = pool();
  p.put('a', 'a1');
  p.put('a', 'a1');
  t.equal(p.idleCount(), 1);
});

t.test('idle pool: close closes every idle item, later puts close theirs at once', async (t) => {
  const { p, clock, closed } = pool();
  p.put('a', 'a1');
  p.put('b', 'b1');
  p.close();
  t.same(closed.sort(), ['a1', 'b1']);
  t.notOk(p.put('a', 'a2'));
  t.same(closed.sort(), ['a1', 'a2', 'b1']);
  t.equal(clock.pending(), 0);
  const zero = pool(0);
  t.notOk(zero.p.put('a', 'x'), 'maxIdlePerKey 0 keeps nothing');
  t.same(zero.closed, ['x']);
});

t.test('idle pool: bad options are refused', async (t) => {
  const clock = new ManualClock();
  t.throws(() => new IdlePool({ maxIdlePerKey: -1, idleTimeoutMs: 1, clock, close: () => {} }), RangeError);
  t.throws(() => new IdlePool({ maxIdlePerKey: 1, idleTimeoutMs: 0, clock, close: () => {} }), RangeError);
});
