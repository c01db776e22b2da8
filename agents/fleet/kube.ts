// The four Kubernetes operations the fleet agent needs, behind an interface so the pure parts and
// their tests never touch a socket, and so a later cluster-agent-provided client can slot in.
import type { KubeObject, ObjectRef } from './types.ts';

export interface ResourceInfo {
  /** The plural resource name in URLs (`deployments`). */
  plural: string;
  namespaced: boolean;
}

export interface Kube {
  /** Discovery: how the cluster serves group/version/kind, or undefined when it does not. */
  resource(ref: Pick<ObjectRef, 'group' | 'version' | 'kind'>): Promise<ResourceInfo | undefined>;
  /** Server-side apply as field manager `drover`, forcing conflicts (as Fleet does); returns the live object. */
  apply(obj: KubeObject): Promise<KubeObject>;
  /** The live object, or undefined when it does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** Every object of one kind in one namespace ('' = all, or cluster-scoped), all pages, with
   *  apiVersion and kind filled in on each item (list items carry neither). */
  list(scope: Pick<ObjectRef, 'group' | 'version' | 'kind' | 'namespace'>): Promise<KubeObject[]>;
  /** Deletes (background propagation); false when it was already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
  close(): void;
}
