// Helm values: Helm's merge rule, Fleet's `${ }` cluster templating and global.fleet.clusterLabels.
import t from 'tap';
import { mergeValues, templateValues, withClusterGlobals } from './values.ts';

const ctx = { clusterName: 'edge-1', clusterLabels: { env: 'edge', region: 'eu' } };

t.test('values: maps merge key by key, arrays and scalars are replaced, the later layer wins', async (t) => {
  t.same(mergeValues({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { c: [3] }, d: null }), { a: { b: 1, c: [3] }, d: null });
  t.same(mergeValues({ a: 1 }, { a: { b: 2 } }), { a: { b: 2 } });
});

t.test('values: ${ .ClusterName } and ${ .ClusterLabels.KEY } / ${ get .ClusterLabels "KEY" } are substituted in strings', async (t) => {
  t.same(templateValues({ host: '${ .ClusterName }.example', list: ['${.ClusterLabels.env}'], n: 3, r: '${ get .ClusterLabels "region" }-x' }, ctx, 'w'), {
    host: 'edge-1.example',
    list: ['edge'],
    n: 3,
    r: 'eu-x',
  });
});

t.test('values: an unknown expression or a missing label is FLEET_YAML_SCHEMA naming the cluster', async (t) => {
  t.throws(() => templateValues({ a: '${ .Values.x }' }, ctx, 'bundle web'), { code: 'FLEET_YAML_SCHEMA' });
  t.throws(() => templateValues({ a: '${ .ClusterLabels.zone }' }, ctx, 'bundle web'), { code: 'FLEET_YAML_SCHEMA', message: /edge-1.*zone/ });
});

t.test('values: global.fleet.clusterLabels is always set and wins over user values', async (t) => {
  const v = withClusterGlobals({ global: { fleet: { clusterLabels: { env: 'forged' } }, other: 1 } }, ctx);
  t.same(v, { global: { other: 1, fleet: { clusterLabels: { env: 'edge', region: 'eu' } } } });
});
