// Which collections the fleet agent watches for drift, and which watch events are drift (pure).
// One watch per kind and namespace the bundles' objects live in (never one per object), each
// filtered by the bundle label, so 500 ConfigMaps in one namespace are one watch; a kind spread over
// more than WATCH_MAX_NAMESPACES_PER_KIND namespaces is watched once across all of them.
// An event is drift only when the object differs from what we applied: our own applies (and the
// apiserver's status updates) read back in sync and are ignored, so the agent never fights itself.
import type { WatchEvent, WatchScope } from './kube.ts';
import type { ResolvedObject } from './resolve.ts';
import type { ComparePatch, KubeObject, ObjectRef } from './types.ts';
import { diffObject } from './drift.ts';
import { ownerOf } from './ownership.ts';
import { keyOf } from './object-ref.ts';
import { FLEET_AGENT_LIMITS } from './limits.ts';

/** One object the drift watch looks after, as the last pass resolved it. */
export interface WatchedObject {
  deploymentId: string;
  bundle: string;
  /** The desired revision the manifest belongs to; a correction for another revision is dropped. */
  revision: string;
  object: ResolvedObject;
  comparePatches: readonly ComparePatch[];
}

export function scopeKey(s: WatchScope): string {
  return `${s.group}/${s.version}/${s.kind}/${s.namespace ?? '*'}`;
}

/** The watches that cover `refs`: per group/version/kind, one per namespace or one across all. */
export function watchScopes(refs: Iterable<Pick<ObjectRef, 'group' | 'version' | 'kind' | 'namespace'>>, maxNamespaces: number = FLEET_AGENT_LIMITS.WATCH_MAX_NAMESPACES_PER_KIND): WatchScope[] {
  const byKind = new Map<string, { group: string; version: string; kind: string; namespaces: Set<string> }>();
  for (const r of refs) {
    const k = `${r.group}/${r.version}/${r.kind}`;
    let e = byKind.get(k);
    if (!e) byKind.set(k, e = { group: r.group, version: r.version, kind: r.kind, namespaces: new Set() });
    e.namespaces.add(r.namespace);
  }
  const out: WatchScope[] = [];
  for (const { group, version, kind, namespaces } of byKind.values()) {
    // '' is a cluster-scoped kind: its one collection. Namespaced kinds over the cap: all namespaces.
    if (namespaces.size > maxNamespaces && !namespaces.has('')) out.push({ group, version, kind, namespace: null });
    else for (const namespace of namespaces) out.push({ group, version, kind, namespace });
  }
  return out.sort((a, b) => scopeKey(a).localeCompare(scopeKey(b)));
}

/** The object key (object-ref.ts keyOf) an event on a watch of `scope` is about. */
export function eventKey(scope: WatchScope, obj: KubeObject): string {
  return keyOf({ group: scope.group, version: scope.version, kind: scope.kind, namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' });
}

/**
 * Whether an event about a watched object means it drifted: deleted (or its bundle label removed,
 * which a label-selected watch reports as DELETED), or added/modified to differ from the desired
 * fields. An object already being deleted is left to its DELETED event.
 */
export function isDrift(w: WatchedObject, e: WatchEvent): boolean {
  if (e.type === 'DELETED') return true;
  if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return false;
  if (e.object.metadata?.deletionTimestamp !== undefined) return false;
  if (ownerOf(e.object) !== w.bundle) return true;
  return diffObject(w.object.manifest, e.object, w.comparePatches).length > 0;
}
