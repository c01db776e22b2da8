import t from 'tap';
import { checkRbacSet, templateApplies, instantiate, namespaceInfo, type RbacObject } from './rbac-set.ts';

const labels = { 'app.kubernetes.io/managed-by': 'drover' };
const ok = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'drover-read-only', labels } };
const ref = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'drover-cluster-member' };
const tpl = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'drover-cluster-member', labels, annotations: { 'drover.dev/except-namespaces': 'kube-system,kube-public' } },
  roleRef: ref,
  subjects: [],
} as const;

t.test('rbac sync: only labelled drover-* RBAC objects, bound only to drover-* ClusterRoles', async (t) => {
  t.match(checkRbacSet({ objects: [ok] }), { ok: true });
  t.match(checkRbacSet({ objects: [] }), { ok: true });
  t.match(checkRbacSet({ objects: [ok, tpl, { ...tpl, kind: 'ClusterRoleBinding', metadata: { name: 'drover-x', labels } }] }), { ok: true });
  t.match(checkRbacSet({}), { ok: false });
  t.match(checkRbacSet({ objects: [{ ...ok, kind: 'Secret' }] }), { ok: false }, 'no other kinds');
  t.match(checkRbacSet({ objects: [{ ...ok, kind: 'toString' }] }), { ok: false }, 'no prototype keys as kinds');
  t.match(checkRbacSet({ objects: [{ ...ok, metadata: { ...ok.metadata, name: 'cluster-admin' } }] }), { ok: false }, 'no foreign names');
  t.match(checkRbacSet({ objects: [{ ...ok, metadata: { name: 'drover-x' } }] }), { ok: false }, 'must carry the label');
  t.match(checkRbacSet({ objects: [{ ...ok, apiVersion: 'v1' }] }), { ok: false });
  t.match(checkRbacSet({ objects: [{ ...tpl, roleRef: { ...ref, name: 'cluster-admin' } }] }), { ok: false, reason: /drover-\* ClusterRole/ }, 'no binding to cluster-admin');
  t.match(checkRbacSet({ objects: [{ ...tpl, roleRef: { ...ref, kind: 'Role' } }] }), { ok: false });
  t.match(checkRbacSet({ objects: [{ ...tpl, metadata: { ...tpl.metadata, namespace: 'team-a' } }] }), { ok: true }, 'a RoleBinding for one namespace (project role)');
  t.match(checkRbacSet({ objects: [tpl, { ...tpl, metadata: { ...tpl.metadata, namespace: 'team-a' } }] }), { ok: true }, 'the same name as a template and for one namespace');
  t.match(checkRbacSet({ objects: [{ ...ok, metadata: { ...ok.metadata, namespace: 'team-a' } }] }), { ok: false, reason: /only a RoleBinding names a namespace/ }, 'no namespaced ClusterRole');
  t.match(checkRbacSet({ objects: [{ ...tpl, metadata: { ...tpl.metadata, namespace: '../x' } }] }), { ok: false }, 'no invalid namespace');
  t.match(checkRbacSet({ objects: [ok, ok] }), { ok: false, reason: /twice/ });
});

t.test('rbac sync: a template goes into every namespace but the excepted, protected and terminating ones', async (t) => {
  const template = tpl as unknown as RbacObject;
  t.ok(templateApplies(template, { name: 'default' }));
  t.ok(templateApplies(template, { name: 'team-a', labels: { 'drover.dev/protected': 'false' } }));
  t.notOk(templateApplies(template, { name: 'kube-system' }));
  t.notOk(templateApplies(template, { name: 'kube-public' }));
  t.notOk(templateApplies(template, { name: 'ops', labels: { 'drover.dev/protected': 'true' } }));
  t.notOk(templateApplies(template, { name: 'going', terminating: true }));
  t.equal(instantiate(template, 'team-a').metadata.namespace, 'team-a');
  t.equal(template.metadata.namespace, undefined, 'the template itself is left alone');
  t.same(namespaceInfo({ metadata: { name: 'x', labels: { a: 'b' } }, status: { phase: 'Active' } }), { name: 'x', labels: { a: 'b' }, terminating: false });
  t.equal(namespaceInfo({ metadata: { name: 'y', deletionTimestamp: '2026-01-01T00:00:00Z' } })?.terminating, true);
  t.equal(namespaceInfo({}), undefined);
});
