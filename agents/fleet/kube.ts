// The four Kubernetes operations the fleet agent needs, behind an interface so the pure parts and
// their tests never touch a socket, and so a later cluster-agent-provided client can slot in.
import type { KubeObject, ObjectRef } from './types.ts';

export interface ResourceInfo {
  /** The plural resource name in URLs (`deployments`). */
  plural: string;
  namespaced: boolean;
}

export interface ListOptions {
  labelSelector?: string;
}

/** A collection to watch: one kind in one namespace, or in every namespace (`namespace: null`). */
export interface WatchScope {
  group: string;
  version: string;
  kind: string;
  /** '' for cluster-scoped kinds; null for a namespaced kind in every namespace. */
  namespace: string | null;
}

export interface WatchOptions extends ListOptions {
  resourceVersion: string;
  /** Asks the apiserver to end the watch after this long (it is then resumed from the last version). */
  timeoutSeconds: number;
}

/** A watch event as the apiserver sends it (BOOKMARK carries only metadata.resourceVersion; ERROR a Status). */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

export interface WatchHandlers {
  event(e: WatchEvent): void;
  /** Called once: after the server ended the watch (err undefined), or on a failure (HTTP status, network). */
  end(err?: { status?: number; message: string }): void;
}

export interface Kube {
  /** Discovery: how the cluster serves group/version/kind, or undefined when it does not. */
  resource(ref: Pick<ObjectRef, 'group' | 'version' | 'kind'>): Promise<ResourceInfo | undefined>;
  /** Server-side apply as field manager `drover`, forcing conflicts (as Fleet does); returns the live object. */
  apply(obj: KubeObject): Promise<KubeObject>;
  /** The live object, or undefined when it does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** Every object of one kind in one namespace ('' = all, or cluster-scoped), all pages, with
   *  apiVersion and kind filled in on each item (list items carry neither); only those matching
   *  `labelSelector` when given (the bundle label: a namespace's other objects are never read). */
  list(scope: Pick<ObjectRef, 'group' | 'version' | 'kind' | 'namespace'>, opts?: ListOptions): Promise<KubeObject[]>;
  /** The collection's current resourceVersion (a one-item LIST), where a watch starts from. */
  collectionVersion?(scope: WatchScope, opts: ListOptions): Promise<string>;
  /** One watch request from `resourceVersion` (with bookmarks); ends on its own after the
   *  apiserver's timeout, on an error, or on `stop()`. Optional: without it the agent only polls. */
  watch?(scope: WatchScope, opts: WatchOptions, handlers: WatchHandlers): { stop(): void };
  /** Deletes (background propagation); false when it was already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
  close(): void;
}
