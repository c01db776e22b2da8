// The RBAC set the server sends (pure): which objects the agent accepts, and where a RoleBinding
// template goes. Only drover-named RBAC objects carrying the managed-by label are accepted, and
// bindings may only point at drover-named ClusterRoles, so the server cannot use the target to write
// or bind anything else with the agent's credentials. A RoleBinding without a namespace is a
// template: one copy in every namespace except those its annotation lists and those labelled
// `drover.dev/protected=true` (server-lite/rbac/role-model.ts). A RoleBinding with a namespace (a
// project role) goes into that namespace only. (Agents before projects refuse such a set whole,
// so a project binding never turns into a template on an old agent: it fails closed.)

import { EXCEPT_NAMESPACES_ANNOTATION, PROTECTED_NAMESPACE_LABEL, RBAC_MANAGED_LABEL as MANAGED_LABEL, RBAC_MANAGED_VALUE as MANAGED_VALUE } from '../../protocol/index.ts';

export { EXCEPT_NAMESPACES_ANNOTATION, PROTECTED_NAMESPACE_LABEL, MANAGED_LABEL, MANAGED_VALUE };

export const KINDS = Object.freeze({
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  RoleBinding: 'rolebindings',
} as const);
export type Kind = keyof typeof KINDS;

export interface RbacObject {
  apiVersion: string;
  kind: Kind;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  roleRef?: { apiGroup?: string; kind?: string; name?: string };
  [field: string]: unknown;
}

const NAME = /^drover-[a-z0-9-]{1,60}$/;
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A RoleBinding without a namespace: copied into every namespace it applies to. */
export const isTemplate = (o: RbacObject): boolean => o.kind === 'RoleBinding' && o.metadata.namespace === undefined;
/** A RoleBinding for one namespace (a project role). */
export const isFixedBinding = (o: RbacObject): boolean => o.kind === 'RoleBinding' && o.metadata.namespace !== undefined;

/** Checks the set; returns a reason for the first object that is not ours to write. */
export function checkRbacSet(value: unknown): { ok: true; objects: RbacObject[] } | { ok: false; reason: string } {
  const objects = (value as { objects?: unknown } | null)?.objects;
  if (!Array.isArray(objects)) return { ok: false, reason: 'body must be {"objects": [...]}' };
  const seen = new Set<string>();
  for (const o of objects as RbacObject[]) {
    if (o?.apiVersion !== 'rbac.authorization.k8s.io/v1' || typeof o.kind !== 'string' || !Object.hasOwn(KINDS, o.kind)) {
      return { ok: false, reason: `not a ClusterRole, ClusterRoleBinding or RoleBinding template: ${JSON.stringify(o).slice(0, 100)}` };
    }
    const name = o.metadata?.name ?? '';
    if (!NAME.test(name)) return { ok: false, reason: `name must start with drover-: ${String(name).slice(0, 80)}` };
    if (o.metadata.labels?.[MANAGED_LABEL] !== MANAGED_VALUE) return { ok: false, reason: `${name} lacks ${MANAGED_LABEL}=${MANAGED_VALUE}` };
    const ns = o.metadata.namespace;
    if (ns !== undefined && (o.kind !== 'RoleBinding' || typeof ns !== 'string' || !NAMESPACE.test(ns))) {
      return { ok: false, reason: `${name}: only a RoleBinding names a namespace, and it must be a valid one` };
    }
    // No aggregate-to-view/edit/admin labels: a drover role must not inject rules into Kubernetes' own roles.
    const foreign = Object.keys(o.metadata.labels ?? {}).filter((k) => k !== MANAGED_LABEL && !k.startsWith('drover.dev/'));
    if (foreign.length > 0) return { ok: false, reason: `${name}: only drover.dev/ labels are accepted (not ${foreign.join(', ')})` };
    if (o.kind !== 'ClusterRole' && (o.roleRef?.kind !== 'ClusterRole' || !NAME.test(o.roleRef?.name ?? ''))) {
      return { ok: false, reason: `${o.kind} ${name} may only refer to a drover-* ClusterRole` };
    }
    const key = ns === undefined ? `${o.kind}/${name}` : `${o.kind}/${ns}/${name}`;
    if (seen.has(key)) return { ok: false, reason: `${o.kind} ${ns === undefined ? '' : `${ns}/`}${name} appears twice` };
    seen.add(key);
  }
  return { ok: true, objects: objects as RbacObject[] };
}

export interface NamespaceInfo {
  name: string;
  labels?: Record<string, string>;
  /** Terminating namespaces refuse new objects. */
  terminating?: boolean;
}

/** Whether a RoleBinding template belongs in a namespace. */
export function templateApplies(template: RbacObject, ns: NamespaceInfo): boolean {
  if (ns.terminating) return false;
  if (ns.labels?.[PROTECTED_NAMESPACE_LABEL] === 'true') return false;
  const except = (template.metadata.annotations?.[EXCEPT_NAMESPACES_ANNOTATION] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return !except.includes(ns.name);
}

/** The namespaced copy of a template. */
export function instantiate(template: RbacObject, namespace: string): RbacObject {
  return { ...template, metadata: { ...template.metadata, namespace } };
}

/** Namespace info from a Kubernetes Namespace object. */
export function namespaceInfo(obj: unknown): NamespaceInfo | undefined {
  const o = obj as { metadata?: { name?: unknown; labels?: Record<string, string>; deletionTimestamp?: unknown }; status?: { phase?: string } } | null;
  const name = o?.metadata?.name;
  if (typeof name !== 'string') return undefined;
  return { name, labels: o?.metadata?.labels ?? {}, terminating: o?.status?.phase === 'Terminating' || o?.metadata?.deletionTimestamp != null };
}
