import t from 'tap';
import { desiredRbac, rbacHash, MANAGED_LABEL } from './desired.ts';
import type { RoleBinding } from '../store/store.ts';

const b = (userName: string, role: RoleBinding['role']): RoleBinding => ({ userName, clusterId: 'c-1', role, createdAt: 0 });

t.test('rbac: three ClusterRoles and the global-admin binding always; one binding per role in use', async (t) => {
  const none = desiredRbac([]);
  t.same(none.map((o) => `${o.kind}/${o.metadata.name}`), [
    'ClusterRole/drover-cluster-owner',
    'ClusterRole/drover-cluster-member',
    'ClusterRole/drover-read-only',
    'ClusterRoleBinding/drover-global-admin',
  ]);
  for (const o of none) t.equal(o.metadata.labels[MANAGED_LABEL], 'drover', `${o.metadata.name} is labelled for pruning`);
  const some = desiredRbac([b('zed', 'read-only'), b('amy', 'read-only'), b('amy', 'cluster-member')]);
  const ro = some.find((o) => o.metadata.name === 'drover-read-only' && o.kind === 'ClusterRoleBinding');
  t.same((ro?.subjects as { name: string }[]).map((s) => s.name), ['drover:user:amy', 'drover:user:zed'], 'sorted, prefixed users');
  t.ok(some.some((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'drover-cluster-member'));
  t.notOk(some.some((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'drover-cluster-owner'), 'no empty binding');
});

t.test('rbac: the hash depends on the bindings, not their order', async (t) => {
  const x = [b('a', 'read-only'), b('b', 'read-only')];
  t.equal(rbacHash(desiredRbac(x)), rbacHash(desiredRbac([...x].reverse())));
  t.not(rbacHash(desiredRbac(x)), rbacHash(desiredRbac([b('a', 'read-only')])));
});
