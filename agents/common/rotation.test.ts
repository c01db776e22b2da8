import t from 'tap';
import { rotationDue } from './rotation.ts';

const issued = '2026-01-01T00:00:00.000Z';
const expires = '2026-04-01T00:00:00.000Z';
const half = (Date.parse(issued) + Date.parse(expires)) / 2;

t.test('rotation: due from half the lifetime on, not before', async (t) => {
  t.notOk(rotationDue(issued, expires, half - 1, 0.5));
  t.ok(rotationDue(issued, expires, half, 0.5));
});

t.test('rotation: a credential offline for a year is simply due, never unusable', async (t) => {
  t.ok(rotationDue(issued, expires, Date.parse(expires) + 365 * 86_400_000, 0.5));
});

t.test('rotation: non-expiring credentials are never rotated; nonsense dates rotate at once', async (t) => {
  t.notOk(rotationDue(issued, null, Date.parse('2099-01-01'), 0.5));
  t.ok(rotationDue('garbage', expires, 0, 0.5));
  t.ok(rotationDue(expires, issued, 0, 0.5), 'expiry before issue');
});
