import t from 'tap';
import fc from 'fast-check';
import { dependenciesMet, orderDeployments, planRevision } from './apply-plan.ts';
import type { ObjectRef } from './types.ts';

const ref = (kind: string, name: string, group = '', namespace = 'x'): ObjectRef => ({ group, version: 'v1', kind, namespace, name });
const NS = ref('Namespace', 'x', '', '');
const CRD = ref('CustomResourceDefinition', 'widgets.example.com', 'apiextensions.k8s.io', '');

t.test('plan: Namespaces, then CRDs, then the rest by kind, manifest order kept within a kind', async (t) => {
  const steps = planRevision([ref('ConfigMap', 'b'), ref('Widget', 'w', 'example.com'), CRD, ref('ConfigMap', 'a'), NS], [], false);
  t.same(steps.map((s) => `${s.action} ${s.ref.kind}/${s.ref.name}`), [
    'apply Namespace/x', 'apply CustomResourceDefinition/widgets.example.com', 'apply ConfigMap/b', 'apply ConfigMap/a', 'apply Widget/w',
  ]);
});

t.test('plan: what the inventory holds and the revision dropped is pruned after the applies, namespaces last', async (t) => {
  const steps = planRevision([ref('ConfigMap', 'keep')], [NS, ref('ConfigMap', 'keep'), ref('ConfigMap', 'gone')], false);
  t.same(steps.map((s) => `${s.action} ${s.ref.name}`), ['apply keep', 'prune gone', 'prune x']);
});

t.test('plan: keepResources orphans dropped objects instead of pruning them', async (t) => {
  const steps = planRevision([], [ref('ConfigMap', 'gone')], true);
  t.same(steps.map((s) => s.action), ['orphan']);
});

t.test('plan: an object whose apiVersion changed is the same object, not pruned', async (t) => {
  const steps = planRevision([{ ...ref('Deployment', 'web', 'apps'), version: 'v1' }], [{ ...ref('Deployment', 'web', 'apps'), version: 'v1beta2' }], false);
  t.same(steps.map((s) => s.action), ['apply']);
});

t.test('dependsOn: deployments come after what they depend on; cycles are set apart', async (t) => {
  const r = orderDeployments([
    { id: 'app', dependsOn: [{ deploymentId: 'db' }] },
    { id: 'db', dependsOn: [{ deploymentId: 'crds' }] },
    { id: 'crds', dependsOn: [] },
    { id: 'x', dependsOn: [{ deploymentId: 'y' }] },
    { id: 'y', dependsOn: [{ deploymentId: 'x' }] },
    { id: 'self', dependsOn: [{ deploymentId: 'self' }] },
    { id: 'ext', dependsOn: [{ deploymentId: 'not-here' }] },
  ]);
  t.same(r.order, ['crds', 'ext', 'db', 'app']);
  t.same(r.cyclic, ['self', 'x', 'y']);
});

t.test('dependsOn: property — every deployment in the order comes after each of its dependencies', async (t) => {
  fc.assert(fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 3 }), { minLength: 1, maxLength: 8 }), (deps) => {
    const nodes = deps.map((ds, i) => ({ id: `d${i}`, dependsOn: ds.filter((j) => j < deps.length).map((j) => ({ deploymentId: `d${j}` })) }));
    const { order, cyclic } = orderDeployments(nodes);
    if (order.length + cyclic.length !== nodes.length) return false;
    return nodes.every((n) => !order.includes(n.id) || n.dependsOn.every((d) => order.indexOf(d.deploymentId) < order.indexOf(n.id)));
  }));
  t.pass();
});

t.test('dependsOn: met when every dependency is Ready, or in its acceptedStates', async (t) => {
  const states = new Map([['db', 'NotReady' as const]]);
  t.same(dependenciesMet([{ deploymentId: 'db' }], (id) => states.get(id)), { met: false, waitingFor: ['db'] });
  t.same(dependenciesMet([{ deploymentId: 'db', acceptedStates: ['NotReady', 'Ready'] }], (id) => states.get(id)), { met: true, waitingFor: [] });
  t.same(dependenciesMet([{ deploymentId: 'unknown' }], () => undefined).met, false);
});

t.test('plan: plain YAML in any order applies config before workloads, webhooks and unknown kinds last; prune reverses it', async (t) => {
  const webhook = ref('ValidatingWebhookConfiguration', 'hook', 'admissionregistration.k8s.io', '');
  const steps = planRevision([webhook, ref('Deployment', 'web', 'apps'), ref('Widget', 'w', 'example.com'), ref('Service', 'web'), ref('ConfigMap', 'cfg'), ref('ServiceAccount', 'sa'), NS], [], false);
  t.same(steps.map((s) => s.ref.kind), ['Namespace', 'ServiceAccount', 'ConfigMap', 'Service', 'Deployment', 'Widget', 'ValidatingWebhookConfiguration']);
  const prunes = planRevision([], [ref('ConfigMap', 'cfg'), ref('Deployment', 'web', 'apps'), webhook, NS], false);
  t.same(prunes.map((s) => s.ref.kind), ['ValidatingWebhookConfiguration', 'Deployment', 'ConfigMap', 'Namespace']);
});
