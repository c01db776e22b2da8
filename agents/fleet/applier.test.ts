import t from 'tap';
import pino from 'pino';
import { applyDeployment, type ApplierDeps } from './applier.ts';
import { createFleetStore } from './store.ts';
import { FakeKube } from '../../test/fakes/fake-kube.ts';
import { configMap, desired, memoryDb, namespace } from './test-fixtures.ts';
import type { KubeObject } from './types.ts';

const setup = () => {
  // Namespace x exists already (as `default` does): these tests are about the journal, not namespaces.
  const kube = new FakeKube({ namespaces: ['x'] });
  const store = createFleetStore(memoryDb());
  const deps: ApplierDeps = { kube, store, now: () => new Date(0), log: pino({ level: 'silent' }), sleep: async () => undefined };
  return { kube, store, deps };
};

t.test('applier: a failure mid-apply leaves the journal open and the next attempt resumes at the failed step', async (t) => {
  const { kube, store, deps } = setup();
  const d = desired('d', 'r1', [namespace('x'), configMap('a', 'x'), configMap('b', 'x'), configMap('c', 'x')]);
  kube.failAfterApplies = 2;
  const first = await applyDeployment(deps, d);
  t.match(first, { ok: false, error: /^APPLY_FAILED: / });
  t.equal(store.applied('d').errorRevision, 'r1');
  t.same(store.journal.open('d')?.steps.map((s) => s.done), [true, true, false, false]);
  kube.failAfterApplies = undefined;
  kube.calls.length = 0;
  const second = await applyDeployment(deps, d);
  t.same(second, { ok: true, steps: 4, resumed: true });
  t.same(kube.calls, ['apply ConfigMap/b', 'apply ConfigMap/c'], 'only what was left');
  t.equal(store.applied('d').error, undefined, 'the error is cleared by the success');
});

t.test('applier: namespaced objects without a namespace get defaultNamespace; cluster-scoped ones lose theirs', async (t) => {
  const { kube, deps } = setup();
  const ns = { ...namespace('y'), metadata: { name: 'y', namespace: 'ignored' } };
  await applyDeployment(deps, desired('d', 'r1', [ns, configMap('a', undefined)], { defaultNamespace: 'y' }));
  t.ok(kube.objects.has('/ConfigMap/y/a'));
  t.ok(kube.objects.has('/Namespace//y'));
});

t.test('applier: a CRD that never becomes Established stops the apply before its resources', async (t) => {
  const { kube, deps } = setup();
  kube.establishCrds = false;
  const crd: KubeObject = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'gizmos.example.com' }, spec: { group: 'example.com', scope: 'Namespaced', names: { kind: 'Gizmo', plural: 'gizmos' } } };
  const gizmo: KubeObject = { apiVersion: 'example.com/v1', kind: 'Gizmo', metadata: { name: 'g', namespace: 'x' } };
  const r = await applyDeployment({ ...deps, crdTimeoutMs: 300 }, desired('d', 'r1', [gizmo, crd]));
  t.match(r, { ok: false, error: /^CRD_NOT_ESTABLISHED: / });
  t.same(kube.calls, ['apply CustomResourceDefinition/gizmos.example.com'], 'the Gizmo was not sent');
});

t.test('applier: a kind whose CRD is Established but not yet in discovery is waited for, not failed', async (t) => {
  const { kube, deps } = setup();
  kube.discoveryLagReads = 3;
  const crd: KubeObject = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'gizmos.example.com' }, spec: { group: 'example.com', scope: 'Namespaced', names: { kind: 'Gizmo', plural: 'gizmos' } } };
  const gizmo: KubeObject = { apiVersion: 'example.com/v1', kind: 'Gizmo', metadata: { name: 'g', namespace: 'x' } };
  t.match(await applyDeployment(deps, desired('d', 'r1', [gizmo, crd])), { ok: true });
  t.ok(kube.objects.has('example.com/Gizmo/x/g'));
  kube.discoveryLagReads = 1_000_000;
  const crd2: KubeObject = { ...crd, metadata: { name: 'doohickeys.example.com' }, spec: { group: 'example.com', scope: 'Namespaced', names: { kind: 'Doohickey', plural: 'doohickeys' } } };
  const r = await applyDeployment({ ...deps, crdTimeoutMs: 300 }, desired('e', 'r1', [{ ...gizmo, kind: 'Doohickey' }, crd2]));
  t.match(r, { ok: false, error: /^CRD_NOT_ESTABLISHED: example.com\/v1 Doohickey not served after 300 ms/ });
});

t.test('applier: a revision that drops objects prunes them, keepResources orphans them', async (t) => {
  const { kube, store, deps } = setup();
  await applyDeployment(deps, desired('d', 'r1', [configMap('a', 'x'), configMap('b', 'x'), configMap('c', 'x')]));
  await applyDeployment(deps, desired('d', 'r2', [configMap('a', 'x'), configMap('b', 'x')]));
  t.notOk(kube.objects.has('/ConfigMap/x/c'), 'c pruned');
  await applyDeployment(deps, desired('d', 'r3', [configMap('a', 'x')], { keepResources: true }));
  t.ok(kube.objects.has('/ConfigMap/x/b'), 'b kept live');
  t.same(store.inventory('d').map((e) => e.name), ['a'], 'b left the inventory');
});

t.test('applier: a new revision arriving while an older apply is unfinished is planned against what was applied so far', async (t) => {
  const { kube, store, deps } = setup();
  kube.failAfterApplies = 2;
  await applyDeployment(deps, desired('d', 'r1', [configMap('a', 'x'), configMap('b', 'x'), configMap('c', 'x')]));
  kube.failAfterApplies = undefined;
  const r = await applyDeployment(deps, desired('d', 'r2', [configMap('c', 'x')]));
  t.same(r, { ok: true, steps: 3, resumed: false });
  t.same(kube.keys(), ['/ConfigMap/x/c'], 'a and b (applied by the unfinished r1) pruned');
  t.same(store.inventory('d').map((e) => e.name), ['c']);
});
