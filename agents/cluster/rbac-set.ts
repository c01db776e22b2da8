// The RBAC set the server sends (pure): which objects the agent accepts, and where a RoleBinding
// template goes. Only drover-named RBAC objects carrying the managed-by label are accepted, and
// bindings may only point at drover-named ClusterRoles, so the server cannot use the target to write
// or bind anything else with the agent's credentials. A RoleBinding without a namespace is a
// template: one copy in every namespace except those its annotation lists and those labelled
// `drover.dev/protected=true` (server-lite/rbac/role-model.ts). A RoleBinding with a namespace (a
// project role) goes into that namespace only. (Agents before projects refuse such a set whole,
// so a project binding never turns into a template on an old agent: it fails closed.)

// The shape of the set is the wire contract (protocol/contracts/rbac.ts), shared with the server.

import {
  EXCEPT_NAMESPACES_ANNOTATION, PROTECTED_NAMESPACE_LABEL, RBAC_API_VERSION, RBAC_KINDS as KINDS, RBAC_MANAGED_LABEL as MANAGED_LABEL, RBAC_MANAGED_VALUE as MANAGED_VALUE,
  rbacObjectSchema, rbacSetSchema, type RbacKind as Kind, type RbacObject,
} from '../../protocol/index.ts';

export { EXCEPT_NAMESPACES_ANNOTATION, PROTECTED_NAMESPACE_LABEL, MANAGED_LABEL, MANAGED_VALUE, KINDS };
export type { Kind, RbacObject };

const NAME = /^drover-[a-z0-9-]{1,60}$/;
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A RoleBinding without a namespace: copied into every namespace it applies to. */
export const isTemplate = (o: RbacObject): boolean => o.kind === 'RoleBinding' && o.metadata.namespace === undefined;
/** A RoleBinding for one namespace (a project role). */
export const isFixedBinding = (o: RbacObject): boolean => o.kind === 'RoleBinding' && o.metadata.namespace !== undefined;

/** Checks the set; returns a reason for the first object that is not ours to write. */
export function checkRbacSet(value: unknown): { ok: true; objects: RbacObject[] } | { ok: false; reason: string } {
  const body = rbacSetSchema.safeParse(value);
  if (!body.success) return { ok: false, reason: 'body must be {"objects": [...]}' };
  const seen = new Set<string>();
  const objects: RbacObject[] = [];
  for (const raw of body.data.objects) {
    const head = (typeof raw === 'object' && raw !== null ? raw : {}) as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
    if (head.apiVersion !== RBAC_API_VERSION || typeof head.kind !== 'string' || !Object.hasOwn(KINDS, head.kind)) {
      return { ok: false, reason: `not a ClusterRole, ClusterRoleBinding or RoleBinding: ${JSON.stringify(raw)?.slice(0, 100)}` };
    }
    const name = head.metadata?.name;
    if (typeof name !== 'string' || !NAME.test(name)) return { ok: false, reason: `name must start with drover-: ${String(name ?? '').slice(0, 80)}` };
    const parsed = rbacObjectSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ok: false, reason: `${head.kind} ${name}: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'not a valid object'}` };
    }
    const o = parsed.data;
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
    objects.push(o);
  }
  return { ok: true, objects };
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
