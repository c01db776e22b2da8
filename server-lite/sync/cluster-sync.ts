// Work pushed to or pulled from cluster agents (RBAC propagation, Kubernetes facts, local
// endpoints), as the server context lists it. Its own file so the services that implement it need
// not import server-lite/context.ts, which imports them (no type-only import circle, issue 13).

/** Work pushed to or pulled from cluster agents (RBAC propagation, Kubernetes facts). */
export interface ClusterSync {
  /** Something changed for this cluster (or its agent connected): sync it soon. */
  kick(clusterId: string): void;
  /** The cluster was deleted: drop what is scheduled or remembered for it. */
  forget(clusterId: string): void;
}
