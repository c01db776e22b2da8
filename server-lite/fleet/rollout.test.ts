// Rollout planner: maxUnavailable (count or percent), partitions in order, Offline deferred, paused.
import t from 'tap';
import fc from 'fast-check';
import { planRollout, resolveIntOrPercent, type RolloutCluster } from './rollout.ts';

const NEW = 'rev-new';
const OLD = 'rev-old';
const c = (id: string, over: Partial<RolloutCluster> = {}): RolloutCluster => ({ id, name: id, labels: {}, online: true, assignedRevision: OLD, ready: true, ...over });

t.test('rollout: maxUnavailable 1 over 3 Ready clusters assigns one at a time', async (t) => {
  const clusters = [c('a'), c('b'), c('c')];
  const p1 = planRollout({ revision: NEW, clusters, strategy: { maxUnavailable: 1 } });
  t.same(p1.assign, ['a']);
  t.same(p1.waiting.map((w) => [w.clusterId, w.reason]), [['b', 'max-unavailable'], ['c', 'max-unavailable']]);
  // a took the revision but is not Ready yet: nobody else moves.
  const p2 = planRollout({ revision: NEW, clusters: [c('a', { assignedRevision: NEW, ready: false }), c('b'), c('c')], strategy: { maxUnavailable: 1 } });
  t.same(p2.assign, []);
  t.same(p2.current, ['a']);
  const p3 = planRollout({ revision: NEW, clusters: [c('a', { assignedRevision: NEW }), c('b'), c('c')], strategy: { maxUnavailable: 1 } });
  t.same(p3.assign, ['b']);
});

t.test('rollout: three clusters, one Offline: the Offline one is deferred and the others proceed', async (t) => {
  const clusters = [c('a'), c('b', { online: false }), c('c')];
  const plan = planRollout({
    revision: NEW,
    clusters,
    strategy: { maxUnavailable: 1, partitions: [{ name: 'first', clusterName: 'b' }, { name: 'rest', clusterSelector: {} }] },
  });
  t.same(plan.deferred, ['b']);
  t.same(plan.assign, ['a'], 'partition "first" holds only the Offline cluster, which does not block "rest"');
  t.same(plan.partitions.map((p) => [p.name, p.complete]), [['first', true], ['rest', false]]);
});

t.test('rollout: a partition starts only when the earlier one is done; maxUnavailablePartitions relaxes that', async (t) => {
  const clusters = [c('a', { labels: { canary: 'y' } }), c('b'), c('d')];
  const strategy = { partitions: [{ name: 'canary', clusterSelector: { matchLabels: { canary: 'y' } } }] };
  const p1 = planRollout({ revision: NEW, clusters, strategy });
  t.same(p1.assign, ['a']);
  t.same(p1.waiting.map((w) => w.reason), ['partition-gate', 'partition-gate']);
  t.same(p1.waiting.map((w) => [w.partition, w.blockedBy]), [['default', ['canary']], ['default', ['canary']]], 'which partition holds them');
  t.same(p1.partitions.map((p) => p.name), ['canary', 'default']);
  const p2 = planRollout({ revision: NEW, clusters: [c('a', { labels: { canary: 'y' }, assignedRevision: NEW }), c('b'), c('d')], strategy });
  t.same(p2.assign, ['b', 'd'], 'default maxUnavailable is 100%');
  const relaxed = planRollout({ revision: NEW, clusters, strategy: { ...strategy, maxUnavailablePartitions: 1 } });
  t.same(relaxed.assign, ['a', 'b', 'd']);
});

t.test('rollout: a NotReady canary holds the next partition even under a 100% budget; once Ready, that partition\'s own maxUnavailable applies', async (t) => {
  // The e2e shape (test/e2e/fleet-rollout.test.ts): the canary is matched by name, the rest by a
  // selector that also matches the canary (first match wins).
  const edge = { env: 'edge' };
  const strategy = {
    maxUnavailable: '100%',
    partitions: [{ name: 'canary', clusterName: 's1' }, { name: 'rest', clusterSelector: { matchLabels: edge }, maxUnavailable: 1 }],
  };
  const at = (s1: Partial<RolloutCluster>, s2: Partial<RolloutCluster> = {}) =>
    planRollout({ revision: NEW, strategy, clusters: [c('s1', { labels: edge, ...s1 }), c('s2', { labels: edge, ...s2 }), c('s3', { labels: edge })] });
  const start = at({});
  t.same(start.assign, ['s1'], 'the canary first');
  t.same(start.waiting, [
    { clusterId: 's2', reason: 'partition-gate', partition: 'rest', blockedBy: ['canary'] },
    { clusterId: 's3', reason: 'partition-gate', partition: 'rest', blockedBy: ['canary'] },
  ]);
  const held = at({ assignedRevision: NEW, ready: false });
  t.same(held.assign, [], 'nothing moves while the canary is NotReady at the new revision');
  t.same(held.current, ['s1']);
  t.same(held.waiting.map((w) => [w.reason, w.blockedBy]), [['partition-gate', ['canary']], ['partition-gate', ['canary']]], 'held by the canary gate, not by a budget');
  t.same(held.partitions.map((p) => [p.name, p.complete, p.started]), [['canary', false, true], ['rest', false, false]]);
  const released = at({ assignedRevision: NEW });
  t.same(released.assign, ['s2'], 'the canary is Ready: the rest starts, one at a time');
  t.same(released.waiting, [{ clusterId: 's3', reason: 'max-unavailable', partition: 'rest' }]);
  t.same(at({ assignedRevision: NEW }, { assignedRevision: NEW, ready: false }).assign, [], 's3 waits for s2');
  t.same(at({ assignedRevision: NEW }, { assignedRevision: NEW }).assign, ['s3']);
  // The canary going Offline after it took the revision does not hold the rest hostage.
  t.same(at({ assignedRevision: NEW, ready: false, online: false }).assign, ['s2']);
});

t.test('rollout: percent budgets round down but never to zero; clusters already unavailable are replaced for free', async (t) => {
  t.equal(resolveIntOrPercent('25%', 10), 2);
  t.equal(resolveIntOrPercent('10%', 5), 0);
  t.equal(resolveIntOrPercent(3, 100), 3);
  const plan = planRollout({ revision: NEW, clusters: [c('a'), c('b'), c('c'), c('d')], strategy: { maxUnavailable: '10%' } });
  t.same(plan.assign, ['a'], 'a 0 budget would stall forever, so one proceeds');
  const broken = planRollout({ revision: NEW, clusters: [c('a', { ready: false }), c('b', { ready: false }), c('c')], strategy: { maxUnavailable: 1 } });
  t.same(broken.assign, ['a', 'b'], 'NotReady clusters get the fix without waiting for budget');
});

t.test('rollout: a paused bundle assigns nothing; clusters with no revision yet still wait', async (t) => {
  const plan = planRollout({ revision: NEW, clusters: [c('a'), c('b', { assignedRevision: undefined, ready: false })], paused: true });
  t.same(plan.assign, []);
  t.same(plan.waiting, [{ clusterId: 'a', reason: 'paused', partition: 'default' }, { clusterId: 'b', reason: 'paused', partition: 'default' }]);
});

const clusterArb = fc.uniqueArray(
  fc.record({
    id: fc.stringMatching(/^c[0-9]{1,2}$/),
    online: fc.boolean(),
    rev: fc.constantFrom(undefined, OLD, NEW),
    ready: fc.boolean(),
    tier: fc.constantFrom('a', 'b', 'c'),
  }),
  { selector: (x) => x.id, maxLength: 25 },
);
const strategyArb = fc.record({
  maxUnavailable: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 100 }).map((n) => `${n}%`)),
  partitions: fc.array(fc.record({ tier: fc.constantFrom('a', 'b', 'c'), max: fc.integer({ min: 0, max: 3 }) }), { maxLength: 3 }),
});

t.test('rollout: properties (offline never assigned; budgets hold; order of partitions respected; each cluster in one bucket)', async () => {
  fc.assert(
    fc.property(clusterArb, strategyArb, fc.boolean(), (raw, s, paused) => {
      const clusters = raw.map((x) => c(x.id, { online: x.online, assignedRevision: x.rev, ready: x.ready, labels: { tier: x.tier } }));
      const strategy = {
        maxUnavailable: s.maxUnavailable,
        partitions: s.partitions.map((p) => ({ name: p.tier, maxUnavailable: p.max, clusterSelector: { matchLabels: { tier: p.tier } } })),
      };
      const plan = planRollout({ revision: NEW, clusters, strategy, paused });
      const byId = new Map(clusters.map((x) => [x.id, x]));
      const buckets = [...plan.assign, ...plan.current, ...plan.deferred, ...plan.waiting.map((w) => w.clusterId)].sort();
      if (JSON.stringify(buckets) !== JSON.stringify(clusters.map((x) => x.id).sort())) return false;
      if (plan.assign.some((id) => !byId.get(id)?.online)) return false;
      if (paused && plan.assign.length > 0) return false;
      // Global budget: newly unavailable clusters stay within max(1, budget) minus those already unavailable.
      const unavailable = (x: RolloutCluster) => x.online && x.assignedRevision !== undefined && !x.ready;
      const before = clusters.filter(unavailable).length;
      const newlyUnavailable = plan.assign.filter((id) => !unavailable(byId.get(id) as RolloutCluster)).length;
      const budget = Math.max(1, resolveIntOrPercent(strategy.maxUnavailable, clusters.length));
      if (newlyUnavailable > 0 && before + newlyUnavailable > budget) return false;
      // A partition that assigned something had every earlier partition complete.
      let earlierIncomplete = false;
      for (const p of plan.partitions) {
        if (earlierIncomplete && p.members.some((id) => plan.assign.includes(id))) return false;
        if (!p.complete) earlierIncomplete = true;
      }
      // The same from the input alone (not the plan's own flags): clusters join the first partition
      // whose tier matches; once a partition has an online member not Ready at the new revision,
      // no later partition gets anything.
      const tierOf = (x: RolloutCluster) => x.labels.tier;
      const firstIndex = (x: RolloutCluster) => {
        const i = strategy.partitions.findIndex((p) => p.name === tierOf(x));
        return i < 0 ? strategy.partitions.length : i;
      };
      const blockedFrom = Math.min(Infinity, ...clusters.filter((x) => x.online && !(x.assignedRevision === NEW && x.ready)).map((x) => firstIndex(x) + 1));
      if (plan.assign.some((id) => firstIndex(byId.get(id) as RolloutCluster) >= blockedFrom)) return false;
      // A cluster held at the gate names the earlier, incomplete partitions that hold it.
      const names = plan.partitions.map((p) => p.name);
      for (const w of plan.waiting) {
        if (w.reason !== 'partition-gate') continue;
        const mine = names.indexOf(w.partition);
        if (!w.blockedBy || w.blockedBy.length === 0) return false;
        if (w.blockedBy.some((b) => names.indexOf(b) >= mine || plan.partitions[names.indexOf(b)]?.complete !== false)) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
});

t.test('rollout: per-cluster target revisions (different Helm values) are compared per cluster', async (t) => {
  const plan = planRollout({
    revision: 'bundle-rev',
    clusters: [c('a', { assignedRevision: 'ra', targetRevision: 'ra' }), c('b', { assignedRevision: 'old', targetRevision: 'rb' })],
    strategy: { maxUnavailable: 1 },
  });
  t.same(plan.current, ['a']);
  t.same(plan.assign, ['b']);
});
