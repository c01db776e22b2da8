// Backoff: exponential, capped, jittered between half and all of the ceiling.
import t from 'tap';
import fc from 'fast-check';
import { backoffDelay } from './backoff.ts';

const policy = { baseMs: 1000, maxMs: 60_000 };

t.test('backoff: doubles per failure from the base and stops at the cap', async (t) => {
  t.equal(backoffDelay(0, policy, () => 1), 0);
  t.same([1, 2, 3, 4].map((n) => backoffDelay(n, policy, () => 1)), [1000, 2000, 4000, 8000]);
  t.equal(backoffDelay(50, policy, () => 1), 60_000);
  t.equal(backoffDelay(3, policy, () => 0), 2000, 'never below half the ceiling');
});

t.test('backoff: property: within [ceiling/2, ceiling] and never decreasing in the worst case', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, r) => {
      const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(n - 1, 30));
      const d = backoffDelay(n, policy, () => r);
      return d >= Math.floor(ceiling / 2) && d <= ceiling && backoffDelay(n + 1, policy, () => 1) >= backoffDelay(n, policy, () => 1);
    }),
  );
});
