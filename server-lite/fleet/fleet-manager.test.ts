// What `bundle status` shows per cluster: Offline whenever the fleet tunnel is down, whatever was
// reported before (nothing stale shows Ready), and the agent's own state only for the revision the
// server assigned; `--target` values parse into target criteria.
import t from 'tap';
import fc from 'fast-check';
import { stateOf } from './fleet-manager.ts';
import { parseTarget } from './fleet-api.ts';

const row = (o: Partial<Parameters<typeof stateOf>[0]> = {}) => ({
  desiredRevision: 'r2', ackedRevision: 'r2', reportedRevision: 'r2', appliedRevision: 'r2', state: 'Ready', message: '', ...o,
});

t.test('bundle status: a disconnected cluster is Offline whatever it reported', async (t) => {
  const rev = fc.option(fc.constantFrom('r1', 'r2'), { nil: null });
  fc.assert(fc.property(rev, rev, rev, rev, fc.option(fc.constantFrom('Ready', 'NotReady', 'Modified', 'ErrApplied'), { nil: null }), (d, a, r, ap, s) => {
    return stateOf({ desiredRevision: d, ackedRevision: a, reportedRevision: r, appliedRevision: ap, state: s, message: null }, false).state === 'Offline';
  }));
  t.match(stateOf(row(), false).message, /last reported Ready/);
});

t.test('bundle status: the agent state counts only for the assigned revision', async (t) => {
  t.equal(stateOf(row(), true).state, 'Ready');
  t.equal(stateOf(row({ desiredRevision: null }), true).state, 'Pending');
  t.equal(stateOf(row({ ackedRevision: 'r1' }), true).state, 'OutOfSync');
  t.equal(stateOf(row({ reportedRevision: 'r1' }), true).state, 'WaitApplied', 'a Ready about r1 says nothing about r2');
  t.equal(stateOf(row({ state: 'Modified', message: 'Deployment x: spec.replicas' }), true).message, 'Deployment x: spec.replicas');
  t.equal(stateOf(row({ state: 'Bogus' }), true).state, 'ErrApplied', 'an unknown reported state is not taken for Ready');
});

t.test('--target: selectors, cluster names and groups', async (t) => {
  t.same(parseTarget('env=edge', 0), { name: 'target-0', clusterSelector: { matchLabels: { env: 'edge' } } });
  t.same(parseTarget('cluster=berlin', 1), { name: 'target-1', clusterName: 'berlin' });
  t.same(parseTarget('group=edge', 2), { name: 'target-2', clusterGroup: 'edge' });
  t.throws(() => parseTarget('env in (', 3), { code: 'SELECTOR_INVALID' });
});

t.test('bundle status: a cluster the rollout holds at its previous revision is OutOfSync and says what it waits for', async (t) => {
  const { join } = await import('node:path');
  const pino = (await import('pino')).default;
  const { FleetStore } = await import('./fleet-store.ts');
  const { FleetManager } = await import('./fleet-manager.ts');
  const { normaliseManifests } = await import('./manifest-set.ts');
  const store = new FleetStore(join(t.testdir(), 'm.db'));
  t.teardown(() => store.close());
  const clusters = [{ id: 'c1', name: 'site-1', labels: { env: 'edge' } }, { id: 'c2', name: 'site-2', labels: { env: 'edge' } }];
  const m = new FleetManager(store, {
    clusters: async () => clusters, online: () => new Set(['c1', 'c2']), now: () => 0, log: pino({ level: 'silent' }),
    tools: { helm: () => 'helm', kustomize: () => 'kustomize' },
  });
  const set = (v: string) => normaliseManifests([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app', namespace: 'x' }, data: { v } }], { bundle: 'app' });
  const spec = { rolloutStrategy: { partitions: [{ name: 'canary', clusterName: 'site-1' }, { name: 'rest', clusterName: 'site-2' }] } };
  let seq = 0;
  const report = (clusterId: string, revision: string, state: string) => {
    store.acked('app', clusterId, revision, 0);
    store.recordStatuses(`a-${clusterId}`, clusterId, [{ seq: ++seq, status: { bundle: 'app', revision, appliedRevision: revision, state, message: `${state} here` } }], () => null, 0);
  };
  const v1 = set('1');
  store.putBundle('app', 'push', v1.revision, spec, clusters.map((c) => ({ clusterId: c.id, set: v1 })), 0);
  await m.plan();
  report('c1', v1.revision, 'Ready');
  await m.plan();
  report('c2', v1.revision, 'Ready');
  await m.plan();
  t.same(m.status('app')?.clusters.map((c) => [c.name, c.state]), [['site-1', 'Ready'], ['site-2', 'Ready']]);

  const v2 = set('2');
  store.putBundle('app', 'push', v2.revision, spec, clusters.map((c) => ({ clusterId: c.id, set: v2 })), 0);
  await m.plan();
  report('c1', v2.revision, 'NotReady');
  await m.plan();
  const held = m.status('app')?.clusters.find((c) => c.id === 'c2');
  t.equal(held?.state, 'OutOfSync', 'not Ready: it runs the previous revision');
  t.same(held?.rollout, { partition: 'rest', reason: 'partition-gate', blockedBy: ['canary'] });
  t.match(held?.message, /^at revision [0-9a-f]{12}, not yet [0-9a-f]{12}: rollout waits for partition "canary" to be Ready$/);
  t.equal(m.status('app')?.clusters.find((c) => c.id === 'c1')?.state, 'NotReady', 'the canary shows its own state');

  report('c1', v2.revision, 'Ready');
  await m.plan();
  const after = m.status('app')?.clusters.find((c) => c.id === 'c2');
  t.equal(after?.revision, v2.revision, 'the canary is Ready: the rest gets v2');
  t.equal(after?.rollout, undefined);
});
