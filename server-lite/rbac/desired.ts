// The Kubernetes RBAC objects a cluster should hold for its Drover role bindings (pure). Drover's
// three cluster roles become ClusterRoles; each role with at least one user becomes one
// ClusterRoleBinding listing those users; global admins reach every cluster as owners through the
// `drover:global:admin` group. The cluster agent applies exactly this set and deletes any other
// object carrying MANAGED_LABEL, so unbinding a user removes them on the next sync.
import { createHash } from 'node:crypto';
import type { ClusterRole, RoleBinding } from '../store/store.ts';

export const MANAGED_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_VALUE = 'drover';

/** Kubernetes user name of a Drover user (prefixed, so no Drover name can pose as a Kubernetes one). */
export const kubeUser = (name: string): string => `drover:user:${name}`;
export const globalGroup = (role: string): string => `drover:global:${role}`;
export const clusterGroup = (role: string): string => `drover:cluster:${role}`;

const READ = ['get', 'list', 'watch'];

const RULES: Record<ClusterRole, unknown[]> = {
  'cluster-owner': [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ],
  // Workloads and their configuration, everything else read-only: no RBAC, no CRDs, no nodes.
  'cluster-member': [
    { apiGroups: ['', 'apps', 'batch', 'autoscaling', 'networking.k8s.io', 'policy', 'discovery.k8s.io'], resources: ['*'], verbs: ['*'] },
    { apiGroups: ['*'], resources: ['*'], verbs: READ },
    { nonResourceURLs: ['*'], verbs: ['get'] },
  ],
  'read-only': [
    { apiGroups: ['*'], resources: ['*'], verbs: READ },
    { nonResourceURLs: ['*'], verbs: ['get'] },
  ],
};

export const roleObjectName = (role: ClusterRole): string => `drover-${role}`;

export interface RbacObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRole' | 'ClusterRoleBinding';
  metadata: { name: string; labels: Record<string, string> };
  [field: string]: unknown;
}

const meta = (name: string) => ({ name, labels: { [MANAGED_LABEL]: MANAGED_VALUE } });

export function desiredRbac(bindings: readonly RoleBinding[]): RbacObject[] {
  const out: RbacObject[] = [];
  for (const role of Object.keys(RULES) as ClusterRole[]) {
    out.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(roleObjectName(role)), rules: RULES[role] });
  }
  const binding = (name: string, role: ClusterRole, subjects: unknown[]): RbacObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: meta(name),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleObjectName(role) },
    subjects,
  });
  out.push(binding('drover-global-admin', 'cluster-owner', [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: globalGroup('admin') }]));
  for (const role of Object.keys(RULES) as ClusterRole[]) {
    const users = [...new Set(bindings.filter((b) => b.role === role).map((b) => b.userName))].sort();
    if (users.length === 0) continue;
    out.push(binding(roleObjectName(role), role, users.map((u) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: kubeUser(u) }))));
  }
  return out;
}

/** Content hash of a desired set: the propagator compares it with what the agent last applied. */
export function rbacHash(objects: readonly RbacObject[]): string {
  return createHash('sha256').update(JSON.stringify(objects)).digest('hex');
}
