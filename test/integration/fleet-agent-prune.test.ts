// Fleet agent core against a real control plane: a new revision that drops objects prunes them
// (keepResources keeps them), a CRD and its resources in one bundle apply in one go, an unknown
// kind fails the revision before anything is applied, and dependsOn holds a deployment back
// until what it depends on is Ready.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { startCluster, tools } from '../k8s/harness.ts';
import { createFleetStore } from '../../agents/fleet/store.ts';
import { createHttpsKube } from '../../agents/fleet/kube-https.ts';
import { reconcileOnce, type ReconcilerDeps } from '../../agents/fleet/reconciler.ts';
import { configMap, desired, memoryDb, namespace, until } from '../../agents/fleet/test-fixtures.ts';
import type { KubeObject } from '../../agents/fleet/types.ts';

const crd: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};
// No status subresource: the manifest's status is stored as written, so a test controls readiness.
const widget = (name: string, ready: boolean): KubeObject => ({
  apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, namespace: 'base' },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'Done' : 'Waiting' }] },
});

t.test('fleet agent: prune, keepResources, CRDs, unknown kinds and dependsOn on a real cluster', async (t) => {
  const cluster = await startCluster();
  t.teardown(() => cluster.stop());
  const kubectl = (...args: string[]): string => execFileSync(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args], { encoding: 'utf8' });
  const exists = (kind: string, name: string, ns: string): boolean => kubectl('get', kind, '-n', ns, '--ignore-not-found', '-o', 'name').includes(`/${name}`);
  const kube = await createHttpsKube(cluster.kubeconfig);
  t.teardown(() => kube.close());
  const store = createFleetStore(memoryDb());
  const deps: ReconcilerDeps = { store, kube, now: () => new Date(), log: pino({ level: 'silent' }) };
  const pass = async (id: string) => (await reconcileOnce(deps)).deployments.find((d) => d.id === id);

  await t.test('a revision that drops objects prunes them; the inventory follows', async (t) => {
    store.acceptDesired(desired('cfg', 'r1', [namespace('cfg'), configMap('a', 'cfg'), configMap('b', 'cfg'), configMap('c', 'cfg')]));
    t.equal((await pass('cfg'))?.state, 'Ready');
    store.acceptDesired(desired('cfg', 'r2', [namespace('cfg'), configMap('a', 'cfg')]));
    const r = await pass('cfg');
    t.equal(r?.state, 'Ready', r?.error ?? store.applied('cfg').error ?? '');
    t.notOk(exists('configmap', 'b', 'cfg'), 'b pruned');
    t.notOk(exists('configmap', 'c', 'cfg'), 'c pruned');
    t.ok(exists('configmap', 'a', 'cfg'), 'a kept');
    t.same(store.inventory('cfg').map((e) => e.name).sort(), ['a', 'cfg']);
  });

  await t.test('with keepResources, dropped objects stay live and leave the inventory', async (t) => {
    store.acceptDesired(desired('cfg', 'r3', [namespace('cfg'), configMap('d', 'cfg')], { keepResources: true }));
    t.equal((await pass('cfg'))?.state, 'Ready');
    t.ok(exists('configmap', 'a', 'cfg'), 'a still there');
    t.same(store.inventory('cfg').map((e) => e.name).sort(), ['cfg', 'd'], 'no longer ours');
  });

  await t.test('a CRD and resources of its kind in one bundle: the CRD is Established first, then the rest applies', async (t) => {
    store.acceptDesired(desired('base', 'r1', [widget('w1', true), crd, namespace('base')]));
    t.equal((await pass('base'))?.state, 'Ready');
    t.ok(exists('widgets.example.com', 'w1', 'base'), 'w1 created');
  });

  await t.test('an unknown kind fails the revision with KIND_UNKNOWN before anything of it is applied', async (t) => {
    store.acceptDesired(desired('bad', 'r1', [namespace('bad'), configMap('first', 'bad'), { apiVersion: 'nope.example.com/v1', kind: 'Gadget', metadata: { name: 'g', namespace: 'bad' } }]));
    const r = await pass('bad');
    t.equal(r?.state, 'ErrApplied');
    t.match(store.outbox.peek(1000).filter((x) => x.deploymentId === 'bad').at(-1)?.status.message, /^KIND_UNKNOWN: /);
    t.notOk(kubectl('get', 'namespace', '--ignore-not-found', '-o', 'name').includes('namespace/bad'), 'not even the Namespace was created');
  });

  await t.test('dependsOn: a deployment waits until what it depends on is Ready, then applies in the same pass', async (t) => {
    store.acceptDesired(desired('base', 'r2', [widget('w1', false), crd, namespace('base')]));
    store.acceptDesired(desired('app', 'r1', [namespace('app'), configMap('app', 'app')], { dependsOn: [{ deploymentId: 'base' }] }));
    const r = await reconcileOnce(deps);
    t.equal(r.deployments.find((d) => d.id === 'base')?.state, 'NotReady');
    t.equal(r.deployments.find((d) => d.id === 'app')?.state, 'WaitApplied');
    t.notOk(exists('configmap', 'app', 'app'), 'app not applied');
    store.acceptDesired(desired('base', 'r3', [widget('w1', true), crd, namespace('base')]));
    const r2 = await reconcileOnce(deps);
    const ids = r2.deployments.map((d) => d.id);
    t.ok(ids.indexOf('base') < ids.indexOf('app'), `base is reconciled before app (${ids.join(', ')})`);
    t.equal(r2.deployments.find((d) => d.id === 'app')?.state, 'Ready');
    await until('app configmap', async () => (exists('configmap', 'app', 'app') ? true : undefined));
  });
});
