// dependsOn: accepted states (default Ready), by name or selector, and cycles refused.
import t from 'tap';
import { assertNoDependencyCycle, checkDependencies } from './dependencies.ts';

t.test('dependsOn: a named dependency must be Ready on the same cluster unless acceptedStates says otherwise', async (t) => {
  t.same(checkDependencies([{ name: 'infra' }], [{ name: 'infra', state: 'Ready' }]), { satisfied: true, waitingFor: [] });
  t.same(checkDependencies([{ name: 'infra' }], [{ name: 'infra', state: 'NotReady' }]).waitingFor, ['infra (is NotReady, needs Ready)']);
  t.ok(checkDependencies([{ name: 'infra', acceptedStates: ['Ready', 'Modified'] }], [{ name: 'infra', state: 'Modified' }]).satisfied);
  t.same(checkDependencies([{ name: 'db' }], []).waitingFor, ['db (not deployed on this cluster)']);
  t.ok(checkDependencies(undefined, []).satisfied);
});

t.test('dependsOn: a selector dependency needs every matching bundle accepted', async (t) => {
  const onCluster = [
    { name: 'a', labels: { tier: 'infra' }, state: 'Ready' as const },
    { name: 'b', labels: { tier: 'infra' }, state: 'Offline' as const },
    { name: 'c', labels: { tier: 'app' }, state: 'ErrApplied' as const },
  ];
  t.same(checkDependencies([{ selector: { matchLabels: { tier: 'infra' } } }], onCluster).waitingFor, ['b (is Offline, needs Ready)']);
});

t.test('dependsOn: cycles are DEPENDENCY_CYCLE naming the cycle; chains and unknown names are fine', async (t) => {
  t.doesNotThrow(() => assertNoDependencyCycle([{ name: 'app', dependsOn: [{ name: 'db' }] }, { name: 'db', dependsOn: [{ name: 'infra' }] }, { name: 'infra' }]));
  t.doesNotThrow(() => assertNoDependencyCycle([{ name: 'app', dependsOn: [{ name: 'elsewhere' }] }]));
  t.throws(() => assertNoDependencyCycle([{ name: 'a', dependsOn: [{ name: 'b' }] }, { name: 'b', dependsOn: [{ name: 'c' }] }, { name: 'c', dependsOn: [{ name: 'a' }] }]), {
    code: 'DEPENDENCY_CYCLE',
    message: /a → b → c → a/,
  });
  t.throws(() => assertNoDependencyCycle([{ name: 'self', dependsOn: [{ name: 'self' }] }]), { code: 'DEPENDENCY_CYCLE' });
});
