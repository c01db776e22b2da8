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
