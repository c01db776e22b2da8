import t from 'tap';
import pino from 'pino';
import { createReconciler, reconcileOnce, type ReconcilerDeps } from './reconciler.ts';
import { createFleetStore } from './store.ts';
import { FakeKube } from '../../test/fakes/fake-kube.ts';
import { configMap, desired, memoryDb } from './test-fixtures.ts';

const setup = () => {
  // Namespace x exists already (as `default` does): these tests are about the journal, not namespaces.
  const kube = new FakeKube({ namespaces: ['x'] });
  const store = createFleetStore(memoryDb());
  const deps: ReconcilerDeps = { kube, store, now: () => new Date(0), log: pino({ level: 'silent' }), sleep: async () => undefined };
  return { kube, store, deps };
};

t.test('reconciler: an unreachable apiserver queues no status (no false state) and the next pass recovers', async (t) => {
  const { kube, store, deps } = setup();
  store.acceptDesired(desired('d', 'r1', [configMap('a', 'x')]));
  t.equal((await reconcileOnce(deps)).deployments[0]?.state, 'Ready');
  const before = store.outbox.length();
  kube.unreachable = true;
  const r = await reconcileOnce(deps);
  t.match(r.deployments[0]?.error, /^KUBE_UNREACHABLE/);
  t.equal(store.outbox.length(), before, 'nothing queued');
  kube.unreachable = false;
  t.equal((await reconcileOnce(deps)).deployments[0]?.state, 'Ready');
});

t.test('reconciler: a dependsOn cycle is ErrApplied with DEPENDENCY_CYCLE and nothing of it is applied', async (t) => {
  const { kube, store, deps } = setup();
  store.acceptDesired(desired('x', 'r1', [configMap('a', 'x')], { dependsOn: [{ deploymentId: 'y' }] }));
  store.acceptDesired(desired('y', 'r1', [configMap('b', 'x')], { dependsOn: [{ deploymentId: 'x' }] }));
  const r = await reconcileOnce(deps);
  t.same(r.deployments.map((d) => d.state), ['ErrApplied', 'ErrApplied']);
  t.match(store.outbox.peek().at(-1)?.status.message, /^DEPENDENCY_CYCLE/);
  t.same(kube.keys(), []);
});

t.test('reconciler: drift is corrected when correctDrift is on, and only reported when it is off', async (t) => {
  const { kube, store, deps } = setup();
  store.acceptDesired(desired('d', 'r1', [configMap('a', 'x', { k: 'v' })], { correctDrift: true }));
  await reconcileOnce(deps);
  kube.objects.get('/ConfigMap/x/a')!.data = { k: 'tampered' };
  const r = await reconcileOnce(deps);
  t.same(r.deployments[0]?.corrected, ['ConfigMap x/a']);
  t.same(kube.objects.get('/ConfigMap/x/a')?.data, { k: 'v' });
  store.acceptDesired(desired('d', 'r1', [configMap('a', 'x', { k: 'v' })], { correctDrift: false }));
  kube.objects.get('/ConfigMap/x/a')!.data = { k: 'tampered' };
  t.equal((await reconcileOnce(deps)).deployments[0]?.state, 'Modified');
  t.same(store.outbox.peek().at(-1)?.status.modified[0]?.fields, ['/data/k']);
});

t.test('reconciler: the loop runs passes until stopped; triggers during a pass coalesce into one pass after it', async (t) => {
  const { store, deps } = setup();
  store.acceptDesired(desired('d', 'r1', [configMap('a', 'x')]));
  let passes = 0;
  const loop = createReconciler({ ...deps, intervalMs: 1, onPass: () => { passes++; } });
  loop.start();
  const [a, b] = [loop.trigger(), loop.trigger()];
  t.equal(a, b, 'two triggers, one pass');
  while (passes < 3) await new Promise((r) => setTimeout(r, 5));
  await loop.stop();
  const after = passes;
  await new Promise((r) => setTimeout(r, 20));
  t.equal(passes, after, 'no pass after stop');
});

t.test('reconciler: with correctDrift, the drift is queued as Modified before the corrected state', async (t) => {
  const { kube, store, deps } = setup();
  store.acceptDesired(desired('d', 'r1', [configMap('a', 'x', { k: 'v' })], { correctDrift: true }));
  await reconcileOnce(deps);
  kube.objects.delete('/ConfigMap/x/a');
  await reconcileOnce(deps);
  const states = store.outbox.peek().map((r) => r.status.state);
  t.same(states, ['Ready', 'Modified', 'Ready']);
  t.equal(store.outbox.peek()[1]?.status.modified[0]?.missing, true);
  t.equal(store.inventory('d')[0]?.uid, kube.objects.get('/ConfigMap/x/a')?.metadata.uid, 'the inventory follows the re-created object');
});

t.test('reconciler: a removed deployment is pruned through the journal and then forgotten; keepResources leaves its objects', async (t) => {
  const { kube, store, deps } = setup();
  store.acceptDesired(desired('gone', 'r1', [configMap('a', 'x')]));
  store.acceptDesired(desired('kept', 'r1', [configMap('b', 'x')], { keepResources: true }));
  await reconcileOnce(deps);
  store.removeDesired('gone');
  store.removeDesired('kept');
  const r = await reconcileOnce(deps);
  t.same(r.deployments.map((d) => [d.id, d.applied]), [['gone', true], ['kept', true]]);
  t.same(kube.keys(), ['/ConfigMap/x/b'], 'a pruned, b kept');
  t.same(store.removedDeployments(), []);
  t.same(store.inventory('gone'), []);
});

t.test('reconciler: a deleted CRD is drift of the CRD and its resources; correctDrift restores the CRD first', async (t) => {
  const { kube, store, deps } = setup();
  const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'gizmos.example.com' }, spec: { group: 'example.com', scope: 'Namespaced', names: { kind: 'Gizmo', plural: 'gizmos' } } };
  const gizmo = { apiVersion: 'example.com/v1', kind: 'Gizmo', metadata: { name: 'g', namespace: 'x' } };
  store.acceptDesired(desired('d', 'r1', [gizmo, crd], { correctDrift: true }));
  t.equal((await reconcileOnce(deps)).deployments[0]?.state, 'Ready');
  kube.deleteCrd('example.com', 'Gizmo', 'gizmos.example.com');
  kube.calls.length = 0;
  const r = await reconcileOnce(deps);
  t.same(kube.calls, ['apply CustomResourceDefinition/gizmos.example.com', 'apply Gizmo/g'], 'CRD first');
  t.equal(r.deployments[0]?.state, 'Ready');
});
