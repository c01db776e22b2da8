import t from 'tap';
import fc from 'fast-check';
import { afterDisconnect, backoffCeiling, backoffDelay, INITIAL_BACKOFF, type BackoffOptions } from './backoff.ts';

const opts: BackoffOptions = { baseMs: 500, capMs: 60_000, stableAfterMs: 30_000, maxExponent: 30 };

t.test('backoff: the ceiling doubles per attempt and stops at the cap', async (t) => {
  t.equal(backoffCeiling(0, opts), 500);
  t.equal(backoffCeiling(1, opts), 1000);
  t.equal(backoffCeiling(3, opts), 4000);
  t.equal(backoffCeiling(7, opts), 60_000);
  t.equal(backoffCeiling(1000, opts), 60_000, 'huge attempt counts neither overflow nor exceed the cap');
});

t.test('backoff: full jitter spans the whole range [0, ceiling)', async (t) => {
  const state = { attempt: 4 };
  t.equal(backoffDelay(state, opts, () => 0), 0, 'lowest random gives an immediate retry');
  t.equal(backoffDelay(state, opts, () => 0.5), 4000);
  t.equal(backoffDelay(state, opts, () => 0.999999), 7999);
});

t.test('backoff: every delay lies within [0, min(cap, base*2^attempt)) (property)', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 200 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 600_000 }), (attempt, r, cap) => {
      const o = { ...opts, capMs: cap, baseMs: Math.min(500, cap) };
      const d = backoffDelay({ attempt }, o, () => r);
      return Number.isInteger(d) && d >= 0 && d <= o.capMs && d <= backoffCeiling(attempt, o);
    }),
  );
  t.pass('property held');
});

t.test('backoff: a server Retry-After is a floor, with jitter on top', async (t) => {
  t.equal(backoffDelay({ attempt: 0 }, opts, () => 0, 10_000), 10_000);
  const d = backoffDelay({ attempt: 0 }, opts, () => 0.5, 10_000);
  t.ok(d > 10_000 && d < 11_000, `got ${d}`);
});

t.test('backoff: failed connects keep growing the attempt counter', async (t) => {
  let s = INITIAL_BACKOFF;
  for (let i = 0; i < 5; i++) s = afterDisconnect(s, opts, undefined);
  t.equal(s.attempt, 5);
});

t.test('backoff: a flapping link (up shorter than stableAfter) does not reset the backoff', async (t) => {
  let s = { attempt: 6 };
  s = afterDisconnect(s, opts, 29_999);
  t.equal(s.attempt, 7, 'a connection that dropped before stableAfter counts as a failure');
  t.equal(backoffCeiling(s.attempt, opts), 60_000);
});

t.test('backoff: a connection that stayed up for stableAfter resets to the first step', async (t) => {
  const s = afterDisconnect({ attempt: 9 }, opts, 30_000);
  t.equal(s.attempt, 0);
  t.equal(backoffCeiling(s.attempt, opts), 500);
});

t.test('backoff: the attempt counter is bounded by maxExponent', async (t) => {
  let s = INITIAL_BACKOFF;
  for (let i = 0; i < 100; i++) s = afterDisconnect(s, opts, undefined);
  t.equal(s.attempt, 30);
});
