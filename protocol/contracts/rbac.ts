// The RBAC set on `http:drover-rbac` (SPEC.md §10.1, docs/api.md, decision 0701): what the server
// PUTs to /v1/rbac and what the cluster agent answers. The shape is checked here; which objects
// the agent is willing to write (drover- names, the managed-by label, bindings to drover-
// ClusterRoles only) is the agent's policy on top (agents/cluster/rbac-set.ts).
import * as z from 'zod';

export const RBAC_PATH = '/v1/rbac';
/** Largest RBAC set body the agent reads. */
export const MAX_RBAC_SET_BYTES = 1024 * 1024;
export const RBAC_API_VERSION = 'rbac.authorization.k8s.io/v1';
/** The kinds a set may hold and their resource names. */
export const RBAC_KINDS = Object.freeze({
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  RoleBinding: 'rolebindings',
} as const);
export type RbacKind = keyof typeof RBAC_KINDS;

const stringMap = z.record(z.string(), z.string());

/** One object: a ClusterRole, a ClusterRoleBinding, or a RoleBinding (without a namespace: a
 *  template copied into every namespace it applies to; with one: that namespace only). */
export const rbacObjectSchema = z.object({
  apiVersion: z.literal(RBAC_API_VERSION),
  kind: z.enum(Object.keys(RBAC_KINDS) as [RbacKind, ...RbacKind[]]),
  metadata: z.object({
    name: z.string().min(1).max(253),
    namespace: z.string().min(1).max(63).optional(),
    labels: stringMap.optional(),
    annotations: stringMap.optional(),
  }).loose(),
  roleRef: z.object({ apiGroup: z.string().optional(), kind: z.string().optional(), name: z.string().optional() }).loose().optional(),
  rules: z.array(z.unknown()).optional(),
  subjects: z.array(z.unknown()).optional(),
}).loose();

/** `PUT /v1/rbac` body: the whole set; anything labelled as Drover's and not in it is pruned. */
export const rbacSetSchema = z.object({ objects: z.array(z.unknown()) });

/** `200` answer: objects applied, and those pruned as `Kind/[namespace/]name`. */
export const rbacAppliedSchema = z.object({ applied: z.int().min(0), deleted: z.array(z.string()) });

export type RbacObject = z.infer<typeof rbacObjectSchema>;
export type RbacApplied = z.infer<typeof rbacAppliedSchema>;

/** Error codes of the target (with `{"error":{"code","message"}}`, target-error.ts). */
export const RBAC_ERROR_CODES = Object.freeze({ BAD_RBAC_SET: 400, NOT_FOUND: 404, RBAC_APPLY_FAILED: 502 } as const);
