// What each Drover cluster role means in Kubernetes RBAC (pure; the one source of truth, decision
// 0801 and docs/roles.md). The roles are built on Kubernetes' own aggregated roles, so a CRD whose
// authors ship an `aggregate-to-view` / `aggregate-to-edit` ClusterRole is covered without a
// Drover change:
// - read-only: everything `view` aggregates (no secrets, no exec/attach/port-forward, no proxy
//   subresources, no token requests), plus reads of the cluster-scoped objects a viewer needs
//   (nodes, namespaces, storage, CRD definitions…), across all namespaces. Writes nothing.
// - cluster-member: read-only everywhere, plus workloads (Kubernetes `edit` without the verbs that
//   mint credentials or impersonate) in every namespace except the system ones, which the cluster
//   agent binds namespace by namespace (a RoleBinding template, below); may create namespaces.
// - cluster-owner: everything on the cluster (cluster-admin).
import type { ClusterRole, ProjectRole } from '../store/store.ts';

import { EXCEPT_NAMESPACES_ANNOTATION, PROTECTED_NAMESPACE_LABEL, RBAC_MANAGED_LABEL as MANAGED_LABEL, RBAC_MANAGED_VALUE as MANAGED_VALUE } from '../../protocol/index.ts';

export { EXCEPT_NAMESPACES_ANNOTATION, PROTECTED_NAMESPACE_LABEL, MANAGED_LABEL, MANAGED_VALUE };

/** Labels our aggregated ClusterRoles select, besides Kubernetes' own. */
export const AGGREGATE_TO = Object.freeze({
  readOnly: 'drover.dev/aggregate-to-read-only',
  member: 'drover.dev/aggregate-to-cluster-member',
} as const);
const K8S_AGGREGATE_TO_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';
const K8S_AGGREGATE_TO_EDIT = 'rbac.authorization.k8s.io/aggregate-to-edit';
/** Kubernetes labels its built-in roles with this; CRD authors' roles do not carry it. */
const K8S_BOOTSTRAP_LABEL = 'kubernetes.io/bootstrapping';

/** Namespaces where a member's namespaced rights are never bound (and any labelled PROTECTED_NAMESPACE_LABEL=true). */
export const PROTECTED_NAMESPACES: readonly string[] = Object.freeze(['kube-system', 'kube-public', 'kube-node-lease']);

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** A ClusterRole of the model: fixed rules, or an aggregation that the controller-manager fills. */
export interface RoleDefinition {
  name: string;
  labels?: Record<string, string>;
  rules?: PolicyRule[];
  aggregate?: LabelSelector[];
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const ALL = [...READ, ...WRITE];

export const ROLE_NAMES = Object.freeze({
  owner: 'drover-cluster-owner',
  readOnly: 'drover-read-only',
  readOnlyClusterScope: 'drover-read-only-cluster-scope',
  member: 'drover-cluster-member',
  memberWorkloads: 'drover-cluster-member-workloads',
  memberClusterScope: 'drover-cluster-member-cluster-scope',
} as const);

/** Cluster-scoped objects a viewer needs to read (view itself is namespace-level only). */
const CLUSTER_SCOPE_READS: PolicyRule[] = [
  { apiGroups: [''], resources: ['nodes', 'namespaces', 'persistentvolumes'], verbs: READ },
  { apiGroups: ['storage.k8s.io'], resources: ['storageclasses', 'csidrivers', 'csinodes', 'volumeattachments'], verbs: READ },
  { apiGroups: ['networking.k8s.io'], resources: ['ingressclasses'], verbs: READ },
  { apiGroups: ['scheduling.k8s.io'], resources: ['priorityclasses'], verbs: READ },
  { apiGroups: ['node.k8s.io'], resources: ['runtimeclasses'], verbs: READ },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: READ },
  { apiGroups: ['apiregistration.k8s.io'], resources: ['apiservices'], verbs: READ },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
  { apiGroups: ['metrics.k8s.io'], resources: ['nodes', 'pods'], verbs: READ },
];

/**
 * A member's rights inside a namespace: Kubernetes `edit` (v1.34) without `impersonate` on
 * serviceaccounts and without `create serviceaccounts/token` (both mint or borrow credentials).
 */
const MEMBER_WORKLOADS: PolicyRule[] = [
  { apiGroups: [''], resources: ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], verbs: ALL },
  { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
  {
    apiGroups: [''],
    resources: ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'persistentvolumeclaims', 'configmaps', 'secrets', 'events'],
    verbs: ALL,
  },
  {
    apiGroups: ['apps'],
    resources: ['statefulsets', 'statefulsets/scale', 'daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale'],
    verbs: ALL,
  },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ALL },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ALL },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ALL },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies', 'ingresses'], verbs: ALL },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ALL },
];

const DEFINITIONS: RoleDefinition[] = [
  {
    name: ROLE_NAMES.owner,
    rules: [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ],
  },
  {
    name: ROLE_NAMES.readOnly,
    aggregate: [{ matchLabels: { [K8S_AGGREGATE_TO_VIEW]: 'true' } }, { matchLabels: { [AGGREGATE_TO.readOnly]: 'true' } }],
  },
  { name: ROLE_NAMES.readOnlyClusterScope, labels: { [AGGREGATE_TO.readOnly]: 'true' }, rules: CLUSTER_SCOPE_READS },
  {
    name: ROLE_NAMES.member,
    aggregate: [
      { matchLabels: { [AGGREGATE_TO.member]: 'true' } },
      // CRD authors' edit roles; Kubernetes' own `edit` parts are replaced by MEMBER_WORKLOADS.
      { matchLabels: { [K8S_AGGREGATE_TO_EDIT]: 'true' }, matchExpressions: [{ key: K8S_BOOTSTRAP_LABEL, operator: 'DoesNotExist' }] },
    ],
  },
  { name: ROLE_NAMES.memberWorkloads, labels: { [AGGREGATE_TO.member]: 'true' }, rules: MEMBER_WORKLOADS },
  { name: ROLE_NAMES.memberClusterScope, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['create'] }] },
];
export const ROLE_DEFINITIONS: readonly RoleDefinition[] = Object.freeze(DEFINITIONS);

/** How a Drover cluster role is granted: ClusterRoles bound cluster-wide, ClusterRoles bound per namespace. */
export interface RoleGrant {
  clusterWide: string[];
  perNamespace: string[];
}

/**
 * What a project role grants in each namespace of its project: the same ClusterRoles the cluster
 * roles use, bound by a RoleBinding in that namespace only (never cluster-wide).
 */
export const PROJECT_GRANTS: Readonly<Record<ProjectRole, string>> = Object.freeze({
  'project-owner': ROLE_NAMES.owner,
  'project-member': ROLE_NAMES.member,
  'read-only': ROLE_NAMES.readOnly,
});

export const ROLE_GRANTS: Readonly<Record<ClusterRole, RoleGrant>> = Object.freeze({
  'cluster-owner': { clusterWide: [ROLE_NAMES.owner], perNamespace: [] },
  'cluster-member': { clusterWide: [ROLE_NAMES.readOnly, ROLE_NAMES.memberClusterScope], perNamespace: [ROLE_NAMES.member] },
  'read-only': { clusterWide: [ROLE_NAMES.readOnly], perNamespace: [] },
});
