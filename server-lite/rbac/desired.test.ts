import t from 'tap';
import { desiredRbac, rbacHash, MANAGED_LABEL } from './desired.ts';
import { EXCEPT_NAMESPACES_ANNOTATION, ROLE_DEFINITIONS } from './role-model.ts';
import type { RoleBinding } from '../store/store.ts';

const b = (userName: string, role: RoleBinding['role']): RoleBinding => ({ userName, clusterId: 'c-1', role, createdAt: 0 });
const key = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`;
const subjects = (o: unknown) => ((o as { subjects: { name: string }[] }).subjects ?? []).map((s) => s.name);

t.test('rbac: the model ClusterRoles and the global-admin binding always; bindings only for roles in use', async (t) => {
  const none = desiredRbac([]);
  t.same(none.map(key), [
    'ClusterRole/drover-cluster-owner',
    'ClusterRole/drover-read-only',
    'ClusterRole/drover-read-only-cluster-scope',
    'ClusterRole/drover-cluster-member',
    'ClusterRole/drover-cluster-member-workloads',
    'ClusterRole/drover-cluster-member-cluster-scope',
    'ClusterRoleBinding/drover-global-admin',
  ]);
  for (const o of none) t.equal(o.metadata.labels[MANAGED_LABEL], 'drover', `${o.metadata.name} is labelled for pruning`);
  const aggregated = none.filter((o) => o.aggregationRule);
  t.same(aggregated.map((o) => o.metadata.name), ['drover-read-only', 'drover-cluster-member'], 'read-only and member build on aggregation');
  for (const o of aggregated) t.notOk('rules' in o, `${o.metadata.name}: rules are the controller-manager's, never sent`);
  t.equal(ROLE_DEFINITIONS.length, 6);
});

t.test('rbac: members read cluster-wide and write per namespace (a template); read-only only reads', async (t) => {
  const some = desiredRbac([b('zed', 'read-only'), b('amy', 'read-only'), b('amy', 'cluster-member'), b('max', 'cluster-member')]);
  const find = (k: string) => some.find((o) => key(o) === k);
  t.same(subjects(find('ClusterRoleBinding/drover-read-only')), ['drover:user:amy', 'drover:user:max', 'drover:user:zed'], 'sorted, prefixed; members read too');
  t.same(subjects(find('ClusterRoleBinding/drover-cluster-member-cluster-scope')), ['drover:user:amy', 'drover:user:max']);
  const tpl = find('RoleBinding/drover-cluster-member');
  t.ok(tpl, 'the namespaced template');
  t.equal((tpl?.metadata as { namespace?: string }).namespace, undefined, 'a template has no namespace');
  t.equal(tpl?.metadata.annotations?.[EXCEPT_NAMESPACES_ANNOTATION], 'kube-system,kube-public,kube-node-lease');
  t.same((tpl?.roleRef as { name: string }).name, 'drover-cluster-member');
  t.notOk(find('ClusterRoleBinding/drover-cluster-member'), 'no cluster-wide binding of the member role');
  t.notOk(find('ClusterRoleBinding/drover-cluster-owner'), 'no empty binding');
});

t.test('rbac: no role but owner grants secrets, exec, tokens, impersonation or RBAC writes', async (t) => {
  for (const def of ROLE_DEFINITIONS.filter((d) => d.name !== 'drover-cluster-owner')) {
    for (const r of def.rules ?? []) {
      t.notOk(r.verbs.includes('*') || r.verbs.includes('impersonate') || r.verbs.includes('escalate') || r.verbs.includes('bind'), `${def.name}: no wildcard or escalating verb`);
      t.notOk((r.resources ?? []).includes('serviceaccounts/token'), `${def.name}: no token requests`);
      t.notOk((r.apiGroups ?? []).includes('rbac.authorization.k8s.io') || (r.apiGroups ?? []).includes('*'), `${def.name}: no RBAC`);
      if (def.name.startsWith('drover-read-only')) {
        t.same(r.verbs, ['get', 'list', 'watch'], `${def.name}: reads only`);
        t.notOk((r.resources ?? []).some((x) => x === 'secrets' || x.includes('/')), `${def.name}: no secrets, no subresources`);
      }
    }
  }
});

t.test('rbac: the hash depends on the bindings, not their order', async (t) => {
  const x = [b('a', 'read-only'), b('b', 'read-only')];
  t.equal(rbacHash(desiredRbac(x)), rbacHash(desiredRbac([...x].reverse())));
  t.not(rbacHash(desiredRbac(x)), rbacHash(desiredRbac([b('a', 'read-only')])));
});

t.test('rbac: a project role is a RoleBinding in each of its namespaces only, on the cluster roles\' ClusterRoles', async (t) => {
  const project = { name: 'shop', clusterId: 'c-1', namespaces: ['shop-prod', 'shop-dev'], createdAt: 0 };
  const pb = (userName: string, role: 'project-owner' | 'project-member' | 'read-only') => ({ userName, project: 'shop', role, createdAt: 0 });
  const set = desiredRbac([], [{ project, bindings: [pb('carol', 'project-member'), pb('dan', 'project-member'), pb('erin', 'read-only'), pb('fay', 'project-owner')] }]);
  const projectBindings = set.filter((o) => o.metadata.namespace !== undefined);
  t.same(
    projectBindings.map((o) => `${o.metadata.namespace}/${o.metadata.name}->${(o.roleRef as { name: string }).name}:${subjects(o).join(',')}`),
    [
      'shop-dev/drover-project-shop-owner->drover-cluster-owner:drover:user:fay',
      'shop-prod/drover-project-shop-owner->drover-cluster-owner:drover:user:fay',
      'shop-dev/drover-project-shop-member->drover-cluster-member:drover:user:carol,drover:user:dan',
      'shop-prod/drover-project-shop-member->drover-cluster-member:drover:user:carol,drover:user:dan',
      'shop-dev/drover-project-shop-read-only->drover-read-only:drover:user:erin',
      'shop-prod/drover-project-shop-read-only->drover-read-only:drover:user:erin',
    ],
  );
  t.notOk(set.some((o) => o.kind === 'ClusterRoleBinding' && subjects(o).some((s) => ['drover:user:carol', 'drover:user:fay'].includes(s))), 'nothing cluster-wide for project users');
  t.ok(projectBindings.every((o) => o.metadata.labels[MANAGED_LABEL] !== undefined && o.metadata.labels['drover.dev/project'] === 'shop'));
  t.same(desiredRbac([], [{ project, bindings: [] }]).filter((o) => o.metadata.namespace !== undefined), [], 'a project without bindings sends nothing');
  t.not(rbacHash(set), rbacHash(desiredRbac([], [{ project: { ...project, namespaces: ['shop-dev'] }, bindings: [pb('carol', 'project-member')] }])), 'a namespace leaving the project changes the set');
});
