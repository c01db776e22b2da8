import t from 'tap';
import { ago, badge, labelList, summaryText } from './format.ts';

t.test('format: relative times, badges, labels and bundle summaries', async (t) => {
  const now = Date.parse('2026-12-05T12:00:00Z');
  t.equal(ago('2026-12-05T11:59:30Z', now), '30 s ago');
  t.equal(ago('2026-12-05T11:50:00Z', now), '10 min ago');
  t.equal(ago('2026-12-05T07:00:00Z', now), '5 h ago');
  t.equal(ago('2026-11-25T12:00:00Z', now), '10 days ago');
  t.equal(ago(null, now), 'never');
  t.match(badge('Offline').text, /class="state st-offline" data-state="Offline"/);
  t.match(badge('<x>').text, /&lt;x&gt;/);
  t.match(labelList({ env: 'prod' }).text, /env=prod/);
  t.match(labelList({}).text, /none/);
  const s = { ready: 2, notReady: 0, waitApplied: 0, errApplied: 1, outOfSync: 0, modified: 0, pending: 0, offline: 1, desiredReady: 4 };
  t.equal(summaryText(s), '2 Ready, 1 ErrApplied, 1 Offline');
  t.equal(summaryText(undefined), 'no bundles');
});
