// Connected / Stale / Offline as a pure function of (now, lastSeen, session) — property-tested.
import t from 'tap';
import fc from 'fast-check';
import { healthState, latest, type HealthPolicy } from './health.ts';

const policy: HealthPolicy = { heartbeatIntervalMs: 15_000, staleAfterIntervals: 2, offlineAfterMs: 300_000 };

t.test('health: table of boundaries', async (t) => {
  const now = 1_000_000_000;
  const cases: Array<[number | null, boolean, string]> = [
    [null, true, 'Offline'],
    [null, false, 'Offline'],
    [now, true, 'Connected'],
    [now - 30_000, true, 'Connected'],
    [now - 30_001, true, 'Stale'],
    [now, false, 'Stale'],
    [now - 300_000, false, 'Stale'],
    [now - 300_001, false, 'Offline'],
    [now - 300_001, true, 'Offline'],
  ];
  for (const [lastSeen, hasSession, want] of cases) {
    t.equal(healthState({ now, lastSeen, hasSession }, policy), want, `lastSeen=${lastSeen} session=${hasSession}`);
  }
});

t.test('health: never Connected once heartbeats are older than 2 intervals, session or not', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 30_001, max: 10 ** 9 }), fc.boolean(), (now, age, hasSession) => {
      return healthState({ now: now + age, lastSeen: now, hasSession }, policy) !== 'Connected';
    }),
  );
});

t.test('health: never Connected without a session', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 10 ** 9 }), (now, age) => {
      return healthState({ now: now + age, lastSeen: now, hasSession: false }, policy) !== 'Connected';
    }),
  );
});

t.test('health: state only worsens as time passes (Connected → Stale → Offline)', async () => {
  const rank = { Connected: 0, Stale: 1, Offline: 2 } as const;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.nat(10 ** 8), fc.nat(10 ** 8), fc.boolean(), (seen, a, b, hasSession) => {
      const early = healthState({ now: seen + Math.min(a, b), lastSeen: seen, hasSession }, policy);
      const late = healthState({ now: seen + Math.max(a, b), lastSeen: seen, hasSession }, policy);
      return rank[late] >= rank[early];
    }),
  );
});

t.test('latest picks the newest lastSeen, ignoring never-seen', async (t) => {
  t.equal(latest([null, 5, 3, null]), 5);
  t.equal(latest([null, null]), null);
  t.equal(latest([]), null);
});
