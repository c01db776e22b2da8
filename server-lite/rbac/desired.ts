// The Kubernetes RBAC objects a cluster should hold for its Drover role bindings (pure). The
// ClusterRoles come from the role model (role-model.ts); each ClusterRole a Drover role grants
// cluster-wide gets one ClusterRoleBinding listing the users holding such a role, each ClusterRole
// granted per namespace one RoleBinding template (no namespace: the cluster agent copies it into
// every namespace but the protected ones, also as namespaces appear). Global admins reach every
// cluster as owners through the `drover:global:admin` group. The cluster agent applies exactly this
// set and deletes any other object carrying MANAGED_LABEL, so unbinding a user removes them on the
// next sync.
import { createHash } from 'node:crypto';
import type { RbacObject as WireRbacObject } from '../../protocol/index.ts';
import type { ClusterRole, ProjectBinding, ProjectRecord, RoleBinding } from '../store/store.ts';
import { CLUSTER_ROLES, PROJECT_ROLES } from '../store/store.ts';
import {
  EXCEPT_NAMESPACES_ANNOTATION,
  MANAGED_LABEL,
  MANAGED_VALUE,
  PROJECT_GRANTS,
  PROTECTED_NAMESPACES,
  ROLE_DEFINITIONS,
  ROLE_GRANTS,
  ROLE_NAMES,
} from './role-model.ts';

export { MANAGED_LABEL, MANAGED_VALUE } from './role-model.ts';

/** Kubernetes user name of a Drover user (prefixed, so no Drover name can pose as a Kubernetes one). */
export const kubeUser = (name: string): string => `drover:user:${name}`;
export const globalGroup = (role: string): string => `drover:global:${role}`;
export const clusterGroup = (role: string): string => `drover:cluster:${role}`;

/** One object of the set, in the wire contract's shape (protocol/contracts/rbac.ts); always labelled. */
export type RbacObject = WireRbacObject & { metadata: { labels: Record<string, string> } };

const API = 'rbac.authorization.k8s.io/v1';
const meta = (name: string, labels: Record<string, string> = {}) => ({ name, labels: { ...labels, [MANAGED_LABEL]: MANAGED_VALUE } });
const roleRef = (name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });
const userSubject = (u: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: kubeUser(u) });

/** A project of the cluster with its bindings, as desiredRbac needs it. */
export interface ProjectGrants {
  project: ProjectRecord;
  bindings: readonly ProjectBinding[];
}

/** The RoleBinding of a project role (one per namespace of the project): `drover-project-<name>-<role>`. */
export const projectBindingName = (project: string, role: string): string => `drover-project-${project}-${role.replace(/^project-/, '')}`;

export function desiredRbac(bindings: readonly RoleBinding[], projects: readonly ProjectGrants[] = []): RbacObject[] {
  const out: RbacObject[] = [];
  for (const def of ROLE_DEFINITIONS) {
    const role: RbacObject = { apiVersion: API, kind: 'ClusterRole', metadata: meta(def.name, def.labels) };
    // An aggregated role's rules belong to the controller-manager: we never send `rules` for it.
    if (def.aggregate) role.aggregationRule = { clusterRoleSelectors: def.aggregate };
    else role.rules = def.rules ?? [];
    out.push(role);
  }
  out.push({
    apiVersion: API,
    kind: 'ClusterRoleBinding',
    metadata: meta('drover-global-admin'),
    roleRef: roleRef(ROLE_NAMES.owner),
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: globalGroup('admin') }],
  });
  const usersOf = (pick: (role: ClusterRole) => readonly string[], clusterRole: string): string[] =>
    [...new Set(bindings.filter((b) => pick(b.role).includes(clusterRole)).map((b) => b.userName))].sort();
  const clusterWide = [...new Set(CLUSTER_ROLES.flatMap((r) => ROLE_GRANTS[r].clusterWide))];
  for (const name of clusterWide) {
    const users = usersOf((r) => ROLE_GRANTS[r].clusterWide, name);
    if (users.length === 0) continue;
    out.push({ apiVersion: API, kind: 'ClusterRoleBinding', metadata: meta(name), roleRef: roleRef(name), subjects: users.map(userSubject) });
  }
  const perNamespace = [...new Set(CLUSTER_ROLES.flatMap((r) => ROLE_GRANTS[r].perNamespace))];
  for (const name of perNamespace) {
    const users = usersOf((r) => ROLE_GRANTS[r].perNamespace, name);
    if (users.length === 0) continue;
    out.push({
      apiVersion: API,
      kind: 'RoleBinding',
      metadata: { ...meta(name), annotations: { [EXCEPT_NAMESPACES_ANNOTATION]: PROTECTED_NAMESPACES.join(',') } },
      roleRef: roleRef(name),
      subjects: users.map(userSubject),
    });
  }
  // Project roles: a RoleBinding in each namespace of the project, and nowhere else.
  for (const { project, bindings: pb } of [...projects].sort((a, b) => a.project.name.localeCompare(b.project.name))) {
    for (const role of PROJECT_ROLES) {
      const users = [...new Set(pb.filter((b) => b.role === role).map((b) => b.userName))].sort();
      if (users.length === 0) continue;
      for (const ns of [...project.namespaces].sort()) {
        out.push({
          apiVersion: API,
          kind: 'RoleBinding',
          metadata: { ...meta(projectBindingName(project.name, role), { 'drover.dev/project': project.name }), namespace: ns },
          roleRef: roleRef(PROJECT_GRANTS[role]),
          subjects: users.map(userSubject),
        });
      }
    }
  }
  return out;
}

/** Content hash of a desired set: the propagator compares it with what the agent last applied. */
export function rbacHash(objects: readonly RbacObject[]): string {
  return createHash('sha256').update(JSON.stringify(objects)).digest('hex');
}
