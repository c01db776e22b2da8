import t from 'tap';
import { inWindow, parseWindow, WindowInvalid } from './window.ts';

// 2026-12-05 is a Saturday.
const at = (iso: string): number => Date.parse(iso);

t.test('window: "Sat 01:00-05:00" in the node\'s clock', async (t) => {
  const w = parseWindow('Sat 01:00-05:00');
  t.same(w.days, [6]);
  t.ok(inWindow(w, at('2026-12-05T02:00:00Z'), 0));
  t.notOk(inWindow(w, at('2026-12-05T05:00:00Z'), 0), 'the end is exclusive');
  t.notOk(inWindow(w, at('2026-12-04T02:00:00Z'), 0), 'Friday');
  t.ok(inWindow(w, at('2026-12-05T00:30:00Z'), 60), 'UTC+1: 01:30 local');
  t.notOk(inWindow(w, at('2026-12-05T02:00:00Z'), -180), 'UTC-3: Friday 23:00 local');
});

t.test('window: day lists, ranges, every day, and windows past midnight', async (t) => {
  t.same(parseWindow('Mon-Fri 08:00-09:00').days, [1, 2, 3, 4, 5]);
  t.same(parseWindow('Fri-Mon 08:00-09:00').days, [0, 1, 5, 6]);
  t.same(parseWindow('sat,Sun 08:00-09:00').days, [0, 6]);
  t.same(parseWindow('22:00-23:00').days, [0, 1, 2, 3, 4, 5, 6]);
  const night = parseWindow('Fri 22:00-02:00');
  t.ok(inWindow(night, at('2026-12-04T23:00:00Z'), 0), 'Friday evening');
  t.ok(inWindow(night, at('2026-12-05T01:30:00Z'), 0), 'Saturday early morning belongs to Friday');
  t.notOk(inWindow(night, at('2026-12-06T01:30:00Z'), 0), 'Sunday early morning does not');
});

t.test('window: malformed specs are refused with the flag named', async (t) => {
  for (const bad of ['', 'Sat', 'Sat 1-5', 'Xyz 01:00-02:00', 'Sat 01:00-01:00', 'Sat 25:00-26:00', 'Sat 01:00-02:00 extra']) {
    t.throws(() => parseWindow(bad), /--window/, bad);
    t.ok((() => { try { parseWindow(bad); } catch (e) { return e instanceof WindowInvalid; } return false; })(), 'a WindowInvalid');
  }
  t.throws(() => parseWindow('Sat 1-5'), /--window/);
});
