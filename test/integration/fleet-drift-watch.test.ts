// Issue 12: the fleet agent corrects drift from Kubernetes watch events, not only at its next pass.
// A real kube-apiserver and real kubectl delete, edit and relabel objects; the agent's pass interval
// is an hour, so only the watch can restore them while the test waits (the deadline of `until` only
// turns a hang into a failure: nothing is asserted on wall-clock time). The agent's own applies (a
// new revision rolling out) and others' edits of fields the bundle does not declare are not fought.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { startCluster, tools } from '../k8s/harness.ts';
import { createHttpsKube } from '../../agents/fleet/kube-https.ts';
import { createFleetAgent } from '../../agents/fleet/fleet-agent.ts';
import type { Kube } from '../../agents/fleet/kube.ts';
import { configMap, deploymentObj, desired, memoryDb, namespace, until } from '../../agents/fleet/test-fixtures.ts';

const HOUR = 3_600_000;

t.test('fleet agent: drift corrected from watch events on a real cluster', async (t) => {
  const cluster = await startCluster();
  t.teardown(() => cluster.stop());
  const kubectl = (...args: string[]): string => execFileSync(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args], { encoding: 'utf8' });
  const real = await createHttpsKube(cluster.kubeconfig);
  t.teardown(() => real.close());
  let applies = 0;
  const kube: Kube = { ...real, apply: (o) => { applies++; return real.apply(o); } };
  const agent = createFleetAgent({ db: memoryDb(), kube, log: pino({ level: 'silent' }), intervalMs: HOUR });
  t.teardown(() => agent.stop());
  const cms = (rev: string): ReturnType<typeof configMap>[] => Array.from({ length: 30 }, (_, i) => configMap(`cm-${i}`, 'drift', { i: String(i), rev }));
  agent.start();
  agent.accept(desired('drift', 'r1', [namespace('drift'), deploymentObj('web', 'drift', 1), ...cms('r1')], { correctDrift: true }));
  const lastState = (): string | undefined => agent.store.outbox.peek(10_000).filter((r) => r.deploymentId === 'drift').at(-1)?.status.state;
  await until('applied and watched', async () => ((agent.driftWatch()?.objects ?? 0) >= 32 ? true : undefined), 90_000);
  const cmData = (name: string, key: string): string => kubectl('get', 'configmap', name, '-n', 'drift', '-o', `jsonpath={.data.${key}}`);

  await t.test('one watch per collection, not one per object', async (t) => {
    await until('watches running', async () => ((agent.driftWatch()?.relists ?? 0) >= 3 ? true : undefined));
    t.equal(agent.driftWatch()?.scopes, 3, 'Namespace, ConfigMaps in drift, Deployments in drift');
  });

  await t.test('a deleted ConfigMap is restored without a pass', async (t) => {
    const uid = kubectl('get', 'configmap', 'cm-3', '-n', 'drift', '-o', 'jsonpath={.metadata.uid}');
    kubectl('delete', 'configmap', 'cm-3', '-n', 'drift', '--wait=true');
    const back = await until('cm-3 back', async () => {
      const u = kubectl('get', 'configmap', '-n', 'drift', '--ignore-not-found', 'cm-3', '-o', 'jsonpath={.metadata.uid}');
      return u !== '' && u !== uid ? u : undefined;
    });
    t.not(back, uid, 'a new object');
    t.equal(cmData('cm-3', 'rev'), 'r1');
    t.equal(kubectl('get', 'configmap', 'cm-3', '-n', 'drift', '-o', 'jsonpath={.metadata.labels.drover\\.dev/bundle}'), 'bundle-drift');
    const states = agent.store.outbox.peek(10_000).filter((r) => r.deploymentId === 'drift').map((r) => r.status.state);
    t.ok(states.includes('Modified'), `the drift is reported before it is fixed (${states.join(' → ')})`);
    t.equal(agent.driftWatch()?.resyncs, 0, 'corrected by itself, not by a full pass');
  });

  await t.test('an edited field, a removed bundle label and a scaled Deployment are restored', async (t) => {
    kubectl('patch', 'configmap', 'cm-4', '-n', 'drift', '--type=merge', '-p', '{"data":{"rev":"hand-edited"}}');
    kubectl('label', 'configmap', 'cm-5', '-n', 'drift', 'drover.dev/bundle-');
    kubectl('scale', 'deployment', 'web', '-n', 'drift', '--replicas=3');
    await until('cm-4 restored', async () => (cmData('cm-4', 'rev') === 'r1' ? true : undefined));
    await until('cm-5 relabelled', async () => (kubectl('get', 'configmap', 'cm-5', '-n', 'drift', '-o', 'jsonpath={.metadata.labels.drover\\.dev/bundle}') === 'bundle-drift' ? true : undefined));
    await until('web back to 1 replica', async () => (kubectl('get', 'deployment', 'web', '-n', 'drift', '-o', 'jsonpath={.spec.replicas}') === '1' ? true : undefined));
    t.pass('all three restored');
  });

  await t.test('fields the bundle does not declare, and the agent\'s own rollout, are not fought', async (t) => {
    await until('the corrections settled', async () => { await agent.reconcileNow(); return lastState() === 'Ready' ? true : undefined; });
    const before = agent.driftWatch()!;
    const appliesBefore = applies;
    kubectl('annotate', 'configmap', 'cm-6', '-n', 'drift', 'team=payments');
    kubectl('patch', 'configmap', 'cm-7', '-n', 'drift', '--type=merge', '-p', '{"data":{"added-by-hand":"yes"}}');
    // A new revision changes every ConfigMap: 31 MODIFIED events that come from our own applies.
    agent.accept(desired('drift', 'r2', [namespace('drift'), deploymentObj('web', 'drift', 1), ...cms('r2')], { correctDrift: true }));
    await until('r2 Ready', async () => { await agent.reconcileNow(); return lastState() === 'Ready' && cmData('cm-29', 'rev') === 'r2' ? true : undefined; });
    const after = agent.driftWatch()!;
    t.ok(after.events >= before.events + 30, `the watch saw the rollout (${after.events - before.events} events)`);
    t.equal(after.reapplied, before.reapplied, 'nothing re-applied by the watch');
    t.equal(applies - appliesBefore, 32, 'only the rollout\'s own applies');
    t.equal(kubectl('get', 'configmap', 'cm-6', '-n', 'drift', '-o', 'jsonpath={.metadata.annotations.team}'), 'payments', 'the annotation stays');
    t.equal(cmData('cm-7', 'added-by-hand'), 'yes', 'the undeclared key stays');
  });

  await t.test('the drift watch follows the new revision: an object it dropped is pruned, not restored', async (t) => {
    agent.accept(desired('drift', 'r3', [namespace('drift'), deploymentObj('web', 'drift', 1), ...cms('r3').slice(0, 20)], { correctDrift: true }));
    await until('r3 applied', async () => { await agent.reconcileNow(); return lastState() === 'Ready' && cmData('cm-0', 'rev') === 'r3' ? true : undefined; });
    t.equal(kubectl('get', 'configmap', '-n', 'drift', '--ignore-not-found', 'cm-25', '-o', 'name'), '', 'cm-25 pruned and stays gone');
    kubectl('delete', 'configmap', 'cm-19', '-n', 'drift', '--wait=true');
    await until('cm-19 back', async () => (kubectl('get', 'configmap', '-n', 'drift', '--ignore-not-found', 'cm-19', '-o', 'name') !== '' ? true : undefined));
    t.equal(agent.driftWatch()?.objects, 22, 'watching r3\'s 22 objects');
    t.equal(kubectl('get', 'configmap', '-n', 'drift', '--ignore-not-found', 'cm-25', '-o', 'name'), '', 'still gone');
  });
});
