// The pure parts of delivery: the options an agent enforces (dependsOn selectors resolved against
// the bundles on its cluster) and the key that decides whether a deployment must be sent again.
// Delivery itself runs over real tunnels in test/e2e/fleet-wire.test.ts.
import t from 'tap';
import { agentOptions, heldKey, resolveDependsOn } from './delivery-options.ts';

const onCluster: { name: string; labels: Record<string, string> }[] = [
  { name: 'infra-db', labels: { tier: 'infra' } },
  { name: 'infra-mq', labels: { tier: 'infra', kind: 'mq' } },
  { name: 'web', labels: { tier: 'app' } },
];

t.test('dependsOn: a name stays a name; a selector becomes every other matching bundle on the cluster', async (t) => {
  t.same(resolveDependsOn('web', { name: 'infra-db' }, onCluster), ['infra-db']);
  t.same(resolveDependsOn('web', { selector: { matchLabels: { tier: 'infra' } } }, onCluster), ['infra-db', 'infra-mq']);
  t.same(resolveDependsOn('infra-db', { selector: { matchLabels: { tier: 'infra' } } }, onCluster), ['infra-mq'], 'never itself');
  t.same(resolveDependsOn('web', { name: 'infra-mq', selector: { matchLabels: { tier: 'infra' } } }, onCluster), ['infra-mq'], 'name and selector both apply');
  t.same(resolveDependsOn('web', { selector: { matchExpressions: [{ key: 'kind', operator: 'Exists' }] } }, onCluster), ['infra-mq']);
  t.same(resolveDependsOn('web', { selector: { matchLabels: { tier: 'nothing' } } }, onCluster), ['selector:{"matchLabels":{"tier":"nothing"}}'], 'no match: a dependency that never becomes Ready, so it waits');
});

t.test('agentOptions: only what is set, with selectors resolved and acceptedStates kept', async (t) => {
  t.same(agentOptions({}), {});
  t.same(agentOptions({ correctDrift: true, keepResources: false, labels: { a: 'b' }, paused: true }), { correctDrift: true, keepResources: false }, 'server-only fields stay on the server');
  t.same(agentOptions({ dependsOn: [{ selector: { matchLabels: { tier: 'infra' } }, acceptedStates: ['Ready', 'Modified'] }, { name: 'x' }] }, 'web', onCluster), {
    dependsOn: [
      { deploymentId: 'infra-db', acceptedStates: ['Ready', 'Modified'] },
      { deploymentId: 'infra-mq', acceptedStates: ['Ready', 'Modified'] },
      { deploymentId: 'x' },
    ],
  });
});

t.test('heldKey: equal for the same revision and options in any key order; differs when either changes', async (t) => {
  t.equal(heldKey('r1', { correctDrift: true, keepResources: false }), heldKey('r1', { keepResources: false, correctDrift: true }));
  t.not(heldKey('r1', { correctDrift: true }), heldKey('r1', { correctDrift: false }), 'an options-only change is re-sent');
  t.not(heldKey('r1', {}), heldKey('r2', {}));
  t.not(heldKey('r1', undefined), heldKey('r1', {}), 'an agent that did not say what it holds gets it once more');
});
