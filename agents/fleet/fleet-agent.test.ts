import t from 'tap';
import pino from 'pino';
import { createFleetAgent } from './fleet-agent.ts';
import { FakeKube } from '../../test/fakes/fake-kube.ts';
import { configMap, desired, memoryDb, until } from './test-fixtures.ts';

const log = pino({ level: 'silent' });

t.test('fleet agent: accept → applied at once → Ready queued; the server drains and acks; a new agent on the same database resumes', async (t) => {
  const db = memoryDb();
  const kube = new FakeKube();
  const agent = createFleetAgent({ db, kube, log, intervalMs: 60_000 });
  agent.start();
  t.teardown(() => agent.stop());
  t.same(agent.accept(desired('d1', 'r1', [configMap('a', 'x')])), { deploymentId: 'd1', revision: 'r1' });
  const rows = await until('a Ready status', async () => {
    const r = agent.pendingStatuses();
    return r.some((x) => x.status.state === 'Ready') ? r : undefined;
  }, 10_000, 5);
  t.ok(kube.objects.has('/ConfigMap/x/a'), 'applied without waiting for the next tick');
  t.equal(agent.acknowledgeStatuses(rows.at(-1)!.seq), rows.length);
  t.equal(agent.status().outbox, 0);
  t.match(agent.status().bundles, [{ name: 'bundle-d1', state: 'Ready', revision: 'r1' }]);
  await agent.stop();

  const again = createFleetAgent({ db, kube, log });
  t.same(again.resumePoint(), [{ deploymentId: 'd1', revision: 'r1', options: {} }], 'the resume point survives, with the options held');
  again.accept(desired('d1', 'r1', [configMap('a', 'x')], { correctDrift: false, keepResources: true }));
  t.same(again.resumePoint(), [{ deploymentId: 'd1', revision: 'r1', options: { correctDrift: false, keepResources: true } }], 'same revision, new options: stored');
  kube.objects.clear();
  const r = await again.reconcileNow();
  t.equal(r.deployments[0]?.state, 'Modified', 'without correctDrift a missing object is reported');
  t.equal(again.remove('d1'), true);
  await again.reconcileNow();
  t.same(again.resumePoint(), []);
});
