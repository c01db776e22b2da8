import t from 'tap';
import { StateHistory } from './state-history.ts';
import { historyChart } from './svg.ts';
import type { ClusterView } from '../views.ts';
import type { HealthState } from '../health.ts';

const view = (state: HealthState): ClusterView => ({ id: 'c', name: 'c', labels: {}, state, lastSeen: null, kubernetesVersion: null, createdAt: '', nodeCount: 0 });

t.test('state history: one sample per interval, the oldest dropped beyond the maximum', async (t) => {
  const h = new StateHistory({ max: 3, everyMs: 1000 });
  t.ok(h.offer(0, [view('Connected'), view('Offline')]));
  t.notOk(h.offer(999, [view('Connected')]), 'too soon');
  for (const at of [1000, 2000, 3000]) t.ok(h.offer(at, [view('Stale')]));
  t.same(h.samples().map((s) => s.at), [1000, 2000, 3000]);
  t.same(h.samples()[0]?.counts, { Connected: 0, Stale: 1, Offline: 0 });
});

t.test('historyChart: a column per sample stacked by share, with a text alternative', async (t) => {
  const svg = historyChart('Cluster states', [
    { at: 0, segments: [{ label: 'Connected', value: 3, cls: 'st-ready' }, { label: 'Offline', value: 1, cls: 'st-offline' }] },
    { at: 60_000, segments: [{ label: 'Connected', value: 0, cls: 'st-ready' }, { label: 'Offline', value: 4, cls: 'st-offline' }] },
  ]).text;
  t.match(svg, /viewBox="0 0 60 100"/);
  t.match(svg, /<rect class="st-ready" x="58" y="25" width="1" height="75">/);
  t.match(svg, /<rect class="st-offline" x="58" y="0" width="1" height="25">/);
  t.match(svg, /<rect class="st-offline" x="59" y="0" width="1" height="100">/);
  t.match(svg, /aria-label="Cluster states: 2 samples from 1970-01-01T00:00:00.000Z to 1970-01-01T00:01:00.000Z; now 0 Connected, 4 Offline"/);
  t.match(historyChart('x', []).text, /no samples yet/);
});
