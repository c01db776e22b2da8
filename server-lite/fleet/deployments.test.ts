// Deployment records: who gets which revision now, who keeps the old one, whose record goes away.
import t from 'tap';
import { nextDeployments, type ClusterState } from './deployments.ts';
import type { RenderedBundle } from './render-source.ts';
import type { ManifestSet } from './manifest-set.ts';

const set = (revision: string): ManifestSet => ({ revision, objects: [] });
const rendered = (targets: [string, string][]): RenderedBundle =>
  ({
    name: 'web',
    path: 'web',
    bundle: { name: 'web', dir: '/x', path: 'web', fleetYaml: {}, warnings: [] },
    revision: 'bundle-r2',
    targets: targets.map(([clusterId, rev]) => ({ clusterId, renderer: 'yaml', set: set(rev) })),
    excluded: [],
    unmatchedCustomizations: [],
    warnings: [],
  }) as RenderedBundle;
const cluster = (id: string, online = true): ClusterState => ({ id, name: id, labels: {}, online });

t.test('deployments: new revisions roll out within maxUnavailable; Offline deferred; untargeted records removed', async (t) => {
  const u = nextDeployments({
    rendered: rendered([['a', 'ra2'], ['b', 'rb2'], ['c', 'rc2']]),
    fleetYaml: { rolloutStrategy: { maxUnavailable: 1 } },
    clusters: [cluster('a'), cluster('b', false), cluster('c'), cluster('gone')],
    current: new Map([
      ['a', { desiredRevision: 'ra1', ready: true }],
      ['b', { desiredRevision: 'rb1', ready: true }],
      ['c', { desiredRevision: 'rc1', ready: true }],
      ['gone', { desiredRevision: 'x', ready: true }],
    ]),
  });
  t.same(u.upserts, [{ bundle: 'web', clusterId: 'a', desiredRevision: 'ra2' }], 'each cluster gets its own target revision');
  t.same(u.plan.deferred, ['b']);
  t.same(u.plan.waiting.map((w) => w.clusterId), ['c']);
  t.same(u.removed, ['gone']);
});

t.test('deployments: a first deployment goes everywhere at once by default; a paused bundle changes nothing', async (t) => {
  const r = rendered([['a', 'r'], ['b', 'r']]);
  const first = nextDeployments({ rendered: r, fleetYaml: {}, clusters: [cluster('a'), cluster('b')], current: new Map() });
  t.same(first.upserts.map((x) => x.clusterId), ['a', 'b']);
  const paused = nextDeployments({ rendered: r, fleetYaml: { paused: true }, clusters: [cluster('a'), cluster('b')], current: new Map([['a', { desiredRevision: 'old', ready: true }]]) });
  t.same(paused.upserts, []);
  t.same(paused.removed, []);
});
