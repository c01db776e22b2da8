// Deployment states: Fleet's meaning and precedence, plus Offline so nothing stale shows Ready;
// summaries in the `drover bundle status NAME --json` contract shape.
import t from 'tap';
import fc from 'fast-check';
import { bundleStatus, byCluster, clusterStatus, deploymentState, observationOf, summarise, worstState, STATE_PRECEDENCE } from './deployment-state.ts';

const R = 'r2';
const applied = { connected: true, desiredRevision: R, ackedRevision: R, reportedRevision: R, reportedState: 'Ready', appliedRevision: R };
const row = (o: Partial<Parameters<typeof observationOf>[0]> = {}) => ({
  desiredRevision: 'r2', ackedRevision: 'r2', reportedRevision: 'r2', appliedRevision: 'r2', state: 'Ready', message: '', ...o,
});

t.test('state: each observation maps to its Fleet state; the agent state counts only for the assigned revision', async (t) => {
  t.equal(deploymentState(applied).state, 'Ready');
  t.equal(deploymentState({ connected: true }).state, 'Pending');
  t.equal(deploymentState({ connected: true, desiredRevision: R, ackedRevision: 'r1' }).state, 'OutOfSync');
  t.equal(deploymentState({ ...applied, reportedRevision: 'r1' }).state, 'WaitApplied', 'a Ready about r1 says nothing about r2');
  t.equal(deploymentState({ ...applied, reportedState: undefined }).state, 'WaitApplied');
  t.same(deploymentState({ ...applied, reportedState: 'ErrApplied', message: 'conflict on Deployment web' }), { state: 'ErrApplied', message: 'conflict on Deployment web' });
  t.equal(deploymentState({ ...applied, reportedState: 'NotReady', message: 'Deployment web: 0/2 available' }).message, 'Deployment web: 0/2 available');
  t.equal(deploymentState({ ...applied, reportedState: 'Modified' }).state, 'Modified');
  t.equal(deploymentState({ ...applied, reportedState: 'Bogus' }).state, 'ErrApplied', 'an unknown reported state is not taken for Ready');
  t.equal(deploymentState(observationOf(row({ desiredRevision: null }), true)).state, 'Pending', 'store rows: null is unset');
  t.equal(deploymentState(observationOf(row({ state: 'Modified', message: 'Deployment x: spec.replicas' }), true)).message, 'Deployment x: spec.replicas');
});

t.test('state: a disconnected agent shows Offline, never its stale Ready', async (t) => {
  const s = deploymentState({ ...applied, connected: false });
  t.equal(s.state, 'Offline');
  t.match(s.message, /not connected; last reported Ready/);
  const rev = fc.option(fc.constantFrom('r1', 'r2'), { nil: null });
  fc.assert(
    fc.property(rev, rev, rev, rev, fc.option(fc.constantFrom('Ready', 'NotReady', 'Modified', 'ErrApplied'), { nil: null }), (d, a, r, ap, st) => {
      return deploymentState(observationOf({ desiredRevision: d, ackedRevision: a, reportedRevision: r, appliedRevision: ap, state: st, message: null }, false)).state === 'Offline';
    }),
  );
});

t.test('state: precedence, worst first: Offline > ErrApplied > WaitApplied > Modified > OutOfSync > Pending > NotReady > Ready', async (t) => {
  t.same([...STATE_PRECEDENCE], ['Offline', 'ErrApplied', 'WaitApplied', 'Modified', 'OutOfSync', 'Pending', 'NotReady', 'Ready']);
  t.equal(worstState(['Ready', 'NotReady', 'Pending']), 'Pending');
  t.equal(worstState(['Ready', 'Offline', 'ErrApplied']), 'Offline');
  t.equal(worstState([]), 'Ready');
});

t.test('state: bundle status has the contract shape, clusters sorted, every cluster counted once', async (t) => {
  const status = bundleStatus('web', R, [
    { clusterId: 'c3', observation: { ...applied, connected: false } },
    { clusterId: 'c1', observation: applied },
    { clusterId: 'c2', observation: { connected: true, desiredRevision: R } },
  ]);
  t.same(Object.keys(status), ['name', 'revision', 'summary', 'clusters']);
  t.same(status.summary, { ready: 1, notReady: 0, waitApplied: 0, errApplied: 0, outOfSync: 1, modified: 0, pending: 0, offline: 1, desiredReady: 3 });
  t.same(status.clusters.map((c) => [c.id, c.state]), [['c1', 'Ready'], ['c2', 'OutOfSync'], ['c3', 'Offline']]);
  for (const c of status.clusters) t.same(Object.keys(c), ['id', 'state', 'message']);
});

t.test('state: a failed render shows in the bundle status next to the last good revision', async (t) => {
  const status = bundleStatus('web', 'r1', [{ clusterId: 'c1', observation: { ...applied, desiredRevision: 'r1', ackedRevision: 'r1', reportedRevision: 'r1', appliedRevision: 'r1' } }], {
    code: 'HELM_RENDER_FAILED',
    message: 'bundle web, target c1: boom',
  });
  t.same(status.error, { code: 'HELM_RENDER_FAILED', message: 'bundle web, target c1: boom' });
  t.equal(status.revision, 'r1');
  t.equal(status.clusters[0]?.state, 'Ready', 'the earlier revision stays untouched and Ready');
  t.notOk('error' in bundleStatus('web', 'r1', []), 'no error field when the source rendered');
});

t.test('state: cluster status is the worst of its bundles', async (t) => {
  const s = clusterStatus('c1', [
    { name: 'web', observation: applied },
    { name: 'db', observation: { ...applied, reportedState: 'ErrApplied', message: 'boom' } },
  ]);
  t.equal(s.state, 'ErrApplied');
  t.same(s.bundles.map((b) => b.name), ['db', 'web']);
  t.equal(summarise(['Ready', 'Ready']).desiredReady, 2);
});

t.test('state: byCluster pivots bundle statuses, keeping each cluster\'s states exactly as the bundles show them', async (t) => {
  const web = bundleStatus('web', 'r2', [{ clusterId: 'c2', observation: applied }, { clusterId: 'c1', observation: { connected: false, desiredRevision: R } }]);
  const db = bundleStatus('db', 'r2', [{ clusterId: 'c1', observation: { ...applied, reportedState: 'ErrApplied', message: 'boom' } }]);
  const m = byCluster([web, db]);
  t.same([...m.keys()], ['c1', 'c2']);
  t.same(m.get('c1')?.bundles.map((b) => `${b.name}:${b.state}`), ['db:ErrApplied', 'web:Offline']);
  t.equal(m.get('c1')?.state, 'Offline', 'the worst of its bundles (Offline ranks first: nothing stale shows)');
  t.match(m.get('c1')?.summary, { errApplied: 1, offline: 1, desiredReady: 2 });
  t.same(m.get('c2')?.bundles.map((b) => `${b.name}:${b.state}`), ['web:Ready']);
  t.equal(byCluster([]).size, 0);
});
