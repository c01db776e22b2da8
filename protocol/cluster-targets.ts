// What server and cluster agent agree on beyond the tunnel itself (pure constants; docs/api.md,
// "Cluster agent stream targets"): the stream targets the cluster agent serves, and the names the
// RBAC set uses on the cluster (docs/roles.md). Both sides import them from here, so they cannot drift.

export const CLUSTER_AGENT_TARGETS = Object.freeze({
  rbac: 'http:drover-rbac',
  facts: 'http:drover-facts',
} as const);

/** OPEN metadata of an `http:kube-apiserver` stream: the caller the agent impersonates (decision
 *  0700). `user` is the Kubernetes user name, `groups` a JSON array of group names. */
export const KUBE_IDENTITY_METADATA = Object.freeze({ user: 'drover-user', groups: 'drover-groups' } as const);

/** Every RBAC object Drover writes carries this label; only those are ever pruned. */
export const RBAC_MANAGED_LABEL = 'app.kubernetes.io/managed-by';
export const RBAC_MANAGED_VALUE = 'drover';
/** On a RoleBinding template: the namespaces (comma-separated) it is not copied into. */
export const EXCEPT_NAMESPACES_ANNOTATION = 'drover.dev/except-namespaces';
/** A namespace labelled `drover.dev/protected=true` gets no RoleBinding template. */
export const PROTECTED_NAMESPACE_LABEL = 'drover.dev/protected';

/**
 * The stream targets the node agent serves (issue 15): its remote shell (frames in shell-frames.ts)
 * and, when it can reach its cluster's kube-apiserver, the same `http:kube-apiserver` target as
 * the cluster agent, which the server uses as the fallback path while the cluster agent is down.
 */
export const NODE_AGENT_TARGETS = Object.freeze({
  shell: 'drover-shell',
} as const);
