import t from 'tap';
import pino from 'pino';
import { ensureNamespaces, undeclaredNamespaces } from './ensure-namespaces.ts';
import { applyDeployment } from './applier.ts';
import { reconcileOnce } from './reconciler.ts';
import { createFleetStore } from './store.ts';
import { FakeKube } from '../../test/fakes/fake-kube.ts';
import { configMap, desired, memoryDb, namespace } from './test-fixtures.ts';
import { refOf } from './object-ref.ts';

const setup = () => {
  const kube = new FakeKube({ namespaces: ['default'] });
  const store = createFleetStore(memoryDb());
  const deps = { kube, store, now: () => new Date(0), log: pino({ level: 'silent' }), sleep: async () => undefined };
  return { kube, store, deps };
};

t.test('undeclaredNamespaces: namespaces used but not declared, once each, cluster-scoped objects ignored', async (t) => {
  const refs = [configMap('a', 'apps'), configMap('b', 'apps'), configMap('c', 'own'), namespace('own'), namespace('lonely')].map(refOf);
  t.same(undeclaredNamespaces(refs), ['apps']);
  t.same(undeclaredNamespaces([]), []);
});

t.test('ensureNamespaces: creates what is missing, leaves existing namespaces alone', async (t) => {
  const kube = new FakeKube({ namespaces: ['default'] });
  t.same(await ensureNamespaces(kube, [configMap('a', 'default'), configMap('b', 'apps')].map(refOf)), ['apps']);
  t.same(kube.calls, ['apply Namespace/apps'], 'default was not touched');
  t.same(await ensureNamespaces(kube, [configMap('b', 'apps')].map(refOf)), [], 'a second call creates nothing');
});

t.test('applier: defaultNamespace without a Namespace object creates it first; it stays out of the inventory and is never pruned', async (t) => {
  const { kube, store, deps } = setup();
  const d = desired('d', 'r1', [configMap('a', undefined)], { defaultNamespace: 'team-a' });
  t.match(await applyDeployment(deps, d), { ok: true });
  t.same(kube.calls, ['apply Namespace/team-a', 'apply ConfigMap/a'], 'the namespace comes before what lives in it');
  t.same(store.inventory('d').map((e) => `${e.kind}/${e.name}`), ['ConfigMap/a'], 'the namespace is not inventoried');
  t.match(await applyDeployment(deps, { ...d, revision: 'removed:r1', manifests: [] }), { ok: true });
  t.same(kube.keys(), [], 'the ConfigMap is pruned');
  t.ok(kube.objects.has('/Namespace//team-a'), 'the undeclared namespace is left in place');
});

t.test('reconciler: an undeclared namespace deleted under the agent is re-created before its objects are restored', async (t) => {
  const { kube, store, deps } = setup();
  store.acceptDesired(desired('d', 'r1', [configMap('a', undefined)], { defaultNamespace: 'team-a', correctDrift: true }));
  t.equal((await reconcileOnce(deps)).deployments[0]?.state, 'Ready');
  // Deleting a namespace deletes everything in it.
  kube.objects.delete('/Namespace//team-a');
  kube.objects.delete('/ConfigMap/team-a/a');
  kube.calls.length = 0;
  const r = await reconcileOnce(deps);
  t.same(r.deployments[0]?.corrected, ['ConfigMap team-a/a']);
  t.same(kube.calls.filter((c) => c.startsWith('apply')), ['apply Namespace/team-a', 'apply ConfigMap/a']);
  t.equal(r.deployments[0]?.state, 'Ready');
});
