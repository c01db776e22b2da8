import t from 'tap';
import { parseClusterQuery, queryClusters, queryString } from './cluster-query.ts';
import type { ClusterView } from '../views.ts';
import type { HealthState } from '../health.ts';

const STATES: HealthState[] = ['Connected', 'Stale', 'Offline'];
const clusters: ClusterView[] = Array.from({ length: 120 }, (_, i) => ({
  id: `c-${String(i).padStart(4, '0')}`,
  name: `site-${String(i).padStart(3, '0')}`,
  labels: { env: i % 2 === 0 ? 'prod' : 'dev', region: i < 60 ? 'eu' : 'us' },
  state: STATES[i % 3] as HealthState,
  lastSeen: i % 7 === 0 ? null : new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
  kubernetesVersion: i % 2 === 0 ? 'v1.34.4' : 'v1.9.0',
  createdAt: '2026-01-01T00:00:00.000Z',
  nodeCount: 1,
}));
const q = (s: string) => parseClusterQuery(new URLSearchParams(s));

t.test('cluster query: label selector and state filter, with counts per state before the state filter', async (t) => {
  const p = queryClusters(clusters, q('labels=env%3Dprod,region%3Deu&state=Offline'));
  t.equal(p.counts.Connected + p.counts.Stale + p.counts.Offline, 30, '30 prod clusters in eu');
  t.ok(p.rows.every((c) => c.labels.env === 'prod' && c.labels.region === 'eu' && c.state === 'Offline'));
  t.equal(p.total, p.counts.Offline);
  const notin = queryClusters(clusters, q('labels=' + encodeURIComponent('region notin (eu)')));
  t.equal(notin.total, 60);
});

t.test('cluster query: a bad selector is reported and ignored, not an error page', async (t) => {
  const p = queryClusters(clusters, q('labels=' + encodeURIComponent('env in ()')));
  t.match(p.selectorError, /needs at least one value/);
  t.equal(p.total, 120);
});

t.test('cluster query: sorts (numeric versions, never-seen first), pages, and clamps the page', async (t) => {
  const byVersion = queryClusters(clusters, q('sort=kubernetesVersion&perPage=100'));
  t.equal(byVersion.rows[0]?.kubernetesVersion, 'v1.9.0', 'v1.9 before v1.34');
  const desc = queryClusters(clusters, q('sort=kubernetesVersion&dir=desc'));
  t.equal(desc.rows[0]?.kubernetesVersion, 'v1.34.4');
  const seen = queryClusters(clusters, q('sort=lastSeen'));
  t.equal(seen.rows[0]?.lastSeen, null);
  const p3 = queryClusters(clusters, q('page=3&perPage=50'));
  t.same([p3.page, p3.pages, p3.rows.length, p3.rows[0]?.name], [3, 3, 20, 'site-100']);
  t.equal(queryClusters(clusters, q('page=99')).page, 3, 'past the end shows the last page');
  const byState = queryClusters(clusters, q('sort=state'));
  t.equal(byState.rows[0]?.state, 'Offline', 'Offline first: what an operator looks for');
  t.equal(queryClusters(clusters, q('q=SITE-011')).total, 1, 'search is case-insensitive');
});

t.test('cluster query: junk parameters fall back to defaults; queryString keeps only what differs', async (t) => {
  const x = q('sort=;drop&state=Gone&page=-1&perPage=7&dir=up');
  t.same([x.sort, x.state, x.page, x.perPage, x.desc], ['name', '', 1, 50, false]);
  t.equal(queryString(x), '');
  t.equal(queryString(q('labels=env%3Dprod&state=Stale'), { page: 2 }), '?labels=env%3Dprod&state=Stale&page=2');
});
