import t from 'tap';
import pino from 'pino';
import { fleetStatusReport } from './status-report.ts';
import { reconcileOnce } from './reconciler.ts';
import { createFleetStore } from './store.ts';
import { FakeKube } from '../../test/fakes/fake-kube.ts';
import { configMap, desired, memoryDb } from './test-fixtures.ts';

t.test('status report: bundles with state, revision and appliedAt, and the outbox length, from SQLite alone', async (t) => {
  const store = createFleetStore(memoryDb(), { now: () => new Date(5000) });
  const kube = new FakeKube();
  store.acceptDesired(desired('d1', 'r1', [configMap('a', 'x')]));
  t.same(fleetStatusReport(store).bundles.map((b) => [b.name, b.state]), [['bundle-d1', 'Pending']], 'not reconciled yet');
  await reconcileOnce({ store, kube, now: () => new Date(5000), log: pino({ level: 'silent' }) });
  const report = fleetStatusReport(store);
  t.match(report.bundles[0], { name: 'bundle-d1', deploymentId: 'd1', state: 'Ready', revision: 'r1', appliedRevision: 'r1', appliedAt: new Date(5000).toISOString() });
  t.equal(report.outbox, 1);
  store.outbox.ack(Number.MAX_SAFE_INTEGER);
  t.equal(fleetStatusReport(store).bundles[0]?.state, 'Ready', 'the state outlives the drained outbox');
  store.acceptDesired(desired('d1', 'r2', [configMap('a', 'x')]));
  t.equal(fleetStatusReport(store).bundles[0]?.state, 'Pending', 'a status about r1 says nothing about r2');
});
