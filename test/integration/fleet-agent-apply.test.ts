// Fleet agent core against a real control plane: a bundle reaches Ready with its Deployment
// Available; drift (a deleted Deployment, another scaled by hand) is reported as Modified with
// the differing fields, and restored when correctDrift is on.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { startCluster, tools } from '../k8s/harness.ts';
import { createFleetStore } from '../../agents/fleet/store.ts';
import { createHttpsKube } from '../../agents/fleet/kube-https.ts';
import { reconcileOnce, type ReconcilerDeps } from '../../agents/fleet/reconciler.ts';
import { configMap, deploymentObj, desired, memoryDb, namespace, until } from '../../agents/fleet/test-fixtures.ts';
import type { DeploymentState } from '../../agents/fleet/types.ts';

t.test('fleet agent: apply, readiness and drift on a real cluster', async (t) => {
  const cluster = await startCluster();
  t.teardown(() => cluster.stop());
  const kubectl = (...args: string[]): string => execFileSync(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args], { encoding: 'utf8' });
  const kube = await createHttpsKube(cluster.kubeconfig);
  t.teardown(() => kube.close());
  const store = createFleetStore(memoryDb());
  const deps: ReconcilerDeps = { store, kube, now: () => new Date(), log: pino({ level: 'silent' }) };
  const stateOf = async (id: string, want: DeploymentState): Promise<DeploymentState | undefined> => {
    const r = await reconcileOnce(deps);
    const s = r.deployments.find((d) => d.id === id)?.state;
    return s === want ? s : undefined;
  };

  // The Secret's stringData and the resource quantities read back in another form (data, 500m):
  // reaching Ready proves they are not mistaken for drift.
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'shop' }, stringData: { password: 'p4ss' } };
  const web = deploymentObj('web', 'shop', 2);
  (web.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0]!.resources = { requests: { cpu: '0.5', memory: '1024Mi' } };
  const manifests = [configMap('settings', 'shop', { mode: 'edge' }), web, deploymentObj('api', 'shop', 1), namespace('shop'), secret];
  store.acceptDesired(desired('shop', 'r1', manifests, { correctDrift: true }));

  await t.test('a bundle (Namespace, ConfigMap, Deployments) is applied and reaches Ready with the Deployments Available', async (t) => {
    await until('Ready', () => stateOf('shop', 'Ready'));
    const web = await kube.get({ group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: 'web' });
    const available = (web?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.find((c) => c.type === 'Available');
    t.equal(available?.status, 'True', 'web is Available');
    t.equal(kubectl('get', 'configmap', 'settings', '-n', 'shop', '-o', 'jsonpath={.data.mode}'), 'edge');
    t.same(store.inventory('shop').map((e) => `${e.kind}/${e.name}`).sort(), ['ConfigMap/settings', 'Deployment/api', 'Deployment/web', 'Namespace/shop', 'Secret/creds']);
    t.equal(kubectl('get', 'deployment', 'web', '-n', 'shop', '-o', 'jsonpath={.spec.template.spec.containers[0].resources.requests.cpu}'), '500m', 'the apiserver canonicalised 0.5');
    t.ok(store.inventory('shop').every((e) => e.uid.length > 0), 'inventory records uids');
    const managers = kubectl('get', 'deployment', 'web', '-n', 'shop', '-o', 'jsonpath={.metadata.managedFields[*].manager}');
    t.match(managers, /\bdrover\b/, 'applied with field manager drover');
    const rows = store.outbox.peek(1000).filter((r) => r.deploymentId === 'shop').map((r) => r.status.state);
    t.ok(rows.every((s, i) => i === 0 || s !== rows[i - 1]), `no status queued twice in a row (${rows.join(' → ')})`);
    t.equal(rows.at(-1), 'Ready', 'and ends Ready');
  });

  await t.test('a deleted Deployment and another scaled by hand are restored by correctDrift', async (t) => {
    kubectl('delete', 'deployment', 'api', '-n', 'shop', '--wait=true');
    kubectl('scale', 'deployment', 'web', '-n', 'shop', '--replicas=5');
    const r = await reconcileOnce(deps);
    const shop = r.deployments.find((d) => d.id === 'shop');
    t.same(shop?.corrected.sort(), ['Deployment shop/api', 'Deployment shop/web'], 'both corrected in one pass');
    t.equal(kubectl('get', 'deployment', 'web', '-n', 'shop', '-o', 'jsonpath={.spec.replicas}'), '2', 'replicas back to 2');
    t.equal(kubectl('get', 'deployment', 'web', '-n', 'shop', '-o', 'jsonpath={.metadata.labels.drover\\.dev/bundle}'), 'bundle-shop', 'the correction keeps the bundle label');
    t.ok(kubectl('get', 'deployment', 'api', '-n', 'shop', '-o', 'name').includes('api'), 'api exists again');
    await until('Ready again', () => stateOf('shop', 'Ready'));
  });

  await t.test('without correctDrift, drift is reported as Modified with the fields that differ', async (t) => {
    store.acceptDesired(desired('shop', 'r1', manifests, { correctDrift: false }));
    kubectl('scale', 'deployment', 'web', '-n', 'shop', '--replicas=4');
    kubectl('delete', 'configmap', 'settings', '-n', 'shop');
    const r = await reconcileOnce(deps);
    t.equal(r.deployments.find((d) => d.id === 'shop')?.state, 'Modified');
    const last = store.outbox.peek(1000).filter((x) => x.deploymentId === 'shop').at(-1)!.status;
    t.equal(last.state, 'Modified');
    const byName = new Map(last.modified.map((m) => [m.ref.name, m]));
    t.same(byName.get('web')?.fields, ['/spec/replicas'], 'web: replicas differ');
    t.equal(byName.get('settings')?.missing, true, 'settings: missing');
    t.equal(kubectl('get', 'deployment', 'web', '-n', 'shop', '-o', 'jsonpath={.spec.replicas}'), '4', 'left as is');
  });

  await t.test('comparePatches hides an ignored field from drift', async (t) => {
    store.acceptDesired(desired('shop', 'r1', manifests.filter((m) => m.metadata.name !== 'settings'), {
      correctDrift: false,
      comparePatches: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'shop', jsonPointers: ['/spec/replicas'] }],
    }));
    store.acceptDesired({ ...store.deployment('shop')!, revision: 'r2' });
    await until('Ready despite replicas 4', () => stateOf('shop', 'Ready'));
    t.equal(kubectl('get', 'deployment', 'web', '-n', 'shop', '-o', 'jsonpath={.spec.replicas}'), '2', 'the r2 apply itself set replicas');
    kubectl('scale', 'deployment', 'web', '-n', 'shop', '--replicas=3');
    await until('still Ready with replicas 3', () => stateOf('shop', 'Ready'));
    t.pass();
  });

  await t.test('a 20 MiB bundle (26 ConfigMaps of 800 KiB) is stored, applied and reaches Ready', async (t) => {
    const big = Array.from({ length: 26 }, (_, i) => configMap(`blob-${i}`, 'big', { data: String(i % 10).repeat(800 * 1024) }));
    const d = desired('big', 'r1', [namespace('big'), ...big]);
    t.ok(JSON.stringify(d).length > 20 * 1024 * 1024, 'over 20 MiB');
    store.acceptDesired(d);
    await until('Ready', () => stateOf('big', 'Ready'), 120_000);
    t.equal(kubectl('get', 'configmaps', '-n', 'big', '-o', 'name').split('\n').filter((l) => l.includes('blob-')).length, 26);
    t.equal(store.deployment('big')?.manifests.length, 27, 'read back whole from SQLite');
  });
  await t.test('ownership: every object names its bundle; a second bundle cannot take it, deleting one bundle never prunes the other\'s', async (t) => {
    // The namespace belongs to no bundle: were it A's, pruning A would delete it and with it C's
    // object (the namespace controller's doing, not the agent's), and the assertions below would race it.
    kubectl('create', 'namespace', 'owners');
    const shared = configMap('shared', 'owners', { by: 'a' });
    store.acceptDesired(desired('own-a', 'a1', [shared, configMap('only-a', 'owners')]));
    await until('own-a Ready', () => stateOf('own-a', 'Ready'));
    t.equal(kubectl('get', 'configmap', '-n', 'owners', '-l', 'drover.dev/bundle=bundle-own-a', '-o', 'name').trim().split('\n').sort().join(' '), 'configmap/only-a configmap/shared', 'kubectl get -l drover.dev/bundle=NAME lists the bundle');

    // B claims the same ConfigMap with other data: refused as a whole, naming the owner; A's data stays.
    store.acceptDesired(desired('own-b', 'b1', [configMap('shared', 'owners', { by: 'b' }), configMap('only-b', 'owners')]));
    const failed = await until('own-b ErrApplied', async () => {
      const r = await reconcileOnce(deps);
      const d = r.deployments.find((x) => x.id === 'own-b');
      return d?.state === 'ErrApplied' ? d : undefined;
    });
    t.match(JSON.stringify(failed), /OWNED_BY_ANOTHER_BUNDLE.*ConfigMap owners\/shared belongs to bundle bundle-own-a/);
    t.equal(kubectl('get', 'configmap', 'shared', '-n', 'owners', '-o', 'jsonpath={.data.by}'), 'a', "A's object is untouched");
    t.notOk(kubectl('get', 'configmap', '-n', 'owners', '-o', 'name').includes('only-b'), 'nothing of B was applied (all or nothing)');

    // B removed and A deleted: A's objects go, and only A's.
    store.removeDesired('own-b');
    await reconcileOnce(deps);
    store.acceptDesired(desired('own-c', 'c1', [configMap('only-c', 'owners')]));
    await until('own-c Ready', () => stateOf('own-c', 'Ready'));
    store.removeDesired('own-a');
    await until('A pruned', async () => {
      await reconcileOnce(deps);
      return !kubectl('get', 'configmap', '-n', 'owners', '-o', 'name').includes('only-a');
    });
    const left = kubectl('get', 'configmap', '-n', 'owners', '-o', 'name');
    t.notOk(left.includes('configmap/shared'), "A's shared object went with A");
    t.ok(left.includes('configmap/only-c'), "C's object is not touched by A's prune");

    // takeOwnership: D takes an object C owns; deleting C afterwards leaves it, as it is D's now.
    store.acceptDesired(desired('own-d', 'd1', [configMap('only-c', 'owners', { by: 'd' })], { takeOwnership: true }));
    await until('own-d Ready', () => stateOf('own-d', 'Ready'));
    t.equal(kubectl('get', 'configmap', 'only-c', '-n', 'owners', '-o', 'jsonpath={.metadata.labels.drover\\.dev/bundle}'), 'bundle-own-d', 'relabelled for D');
    store.removeDesired('own-c');
    await reconcileOnce(deps);
    await reconcileOnce(deps);
    t.equal(kubectl('get', 'configmap', 'only-c', '-n', 'owners', '-o', 'jsonpath={.data.by}'), 'd', "C's prune left D's object alone");
  });
  await t.test('NotReady says why: the pods of a Deployment that no node may run show FailedScheduling', async (t) => {
    const stuck = deploymentObj('stuck', 'why', 1);
    (stuck.spec as { template: { spec: Record<string, unknown> } }).template.spec.nodeSelector = { 'drover.dev/no-such-node': 'true' };
    store.acceptDesired(desired('why', 'w1', [namespace('why'), stuck]));
    const message = await until('a NotReady status naming the scheduler', async () => {
      await reconcileOnce(deps);
      const last = store.outbox.peek(1000).filter((r) => r.deploymentId === 'why').at(-1)?.status;
      return last?.state === 'NotReady' && /FailedScheduling/.test(last.message) ? last.message : undefined;
    }, 60_000);
    t.match(message, /Deployment why\/stuck: [^(]+ \(Pod stuck-[a-z0-9]+-[a-z0-9]+: FailedScheduling: 0\/\d+ nodes are available: .*node affinity\/selector/);
  });
});
