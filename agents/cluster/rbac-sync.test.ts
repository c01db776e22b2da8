import t from 'tap';
import { checkRbacSet } from './rbac-sync.ts';

const ok = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'drover-read-only', labels: { 'app.kubernetes.io/managed-by': 'drover' } } };

t.test('rbac sync: only labelled drover-* ClusterRoles and ClusterRoleBindings are accepted', async (t) => {
  t.match(checkRbacSet({ objects: [ok] }), { ok: true });
  t.match(checkRbacSet({ objects: [] }), { ok: true });
  t.match(checkRbacSet({}), { ok: false });
  t.match(checkRbacSet({ objects: [{ ...ok, kind: 'Secret' }] }), { ok: false }, 'no other kinds');
  t.match(checkRbacSet({ objects: [{ ...ok, metadata: { ...ok.metadata, name: 'cluster-admin' } }] }), { ok: false }, 'no foreign names');
  t.match(checkRbacSet({ objects: [{ ...ok, metadata: { name: 'drover-x' } }] }), { ok: false }, 'must carry the label');
  t.match(checkRbacSet({ objects: [{ ...ok, apiVersion: 'v1' }] }), { ok: false });
});
