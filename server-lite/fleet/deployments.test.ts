// Assignments: who gets which revision now, who keeps the old one, whose assignment goes away.
import t from 'tap';
import { nextAssignments } from './deployments.ts';

const clusters = (...ids: string[]) => new Map(ids.map((id) => [id, { name: id, labels: {} }]));
const targets = (pairs: [string, string][]) => pairs.map(([clusterId, revision]) => ({ clusterId, revision }));

t.test('assignments: new revisions roll out within maxUnavailable; Offline deferred; untargeted removed', async (t) => {
  const u = nextAssignments({
    revision: 'bundle-r2',
    targets: targets([['a', 'ra2'], ['b', 'rb2'], ['c', 'rc2']]),
    strategy: { maxUnavailable: 1 },
    clusters: clusters('a', 'b', 'c', 'gone'),
    online: new Set(['a', 'c', 'gone']),
    current: new Map([
      ['a', { desiredRevision: 'ra1', ready: true }],
      ['b', { desiredRevision: 'rb1', ready: true }],
      ['c', { desiredRevision: 'rc1', ready: true }],
      ['gone', { desiredRevision: 'x', ready: true }],
    ]),
  });
  t.same(u.assign, [{ clusterId: 'a', revision: 'ra2' }], 'each cluster gets its own target revision');
  t.same(u.plan.deferred, ['b']);
  t.same(u.plan.waiting.map((w) => w.clusterId), ['c']);
  t.same(u.unassign, ['gone']);
});

t.test('assignments: a first deployment goes everywhere at once by default; a paused bundle changes nothing', async (t) => {
  const tg = targets([['a', 'r'], ['b', 'r']]);
  const online = new Set(['a', 'b']);
  const first = nextAssignments({ revision: 'r', targets: tg, clusters: clusters('a', 'b'), online, current: new Map() });
  t.same(first.assign.map((x) => x.clusterId), ['a', 'b']);
  const paused = nextAssignments({ revision: 'r', targets: tg, paused: true, clusters: clusters('a', 'b'), online, current: new Map([['a', { desiredRevision: 'old', ready: true }]]) });
  t.same(paused.assign, []);
  t.same(paused.unassign, []);
});

t.test('assignments: a target whose cluster is not (yet) known still rolls out, under its id', async (t) => {
  const u = nextAssignments({ revision: 'r', targets: targets([['new', 'r']]), clusters: new Map(), online: new Set(['new']), current: new Map() });
  t.same(u.assign, [{ clusterId: 'new', revision: 'r' }]);
  t.same(u.plan.partitions.flatMap((p) => p.members), ['new']);
});
