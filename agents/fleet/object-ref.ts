// Object references: from a manifest to its group/version/kind/namespace/name, a stable string key
// for maps and SQLite rows, and the order in which kinds are applied.
import type { KubeObject, ObjectRef } from './types.ts';

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function apiVersionOf(ref: Pick<ObjectRef, 'group' | 'version'>): string {
  return ref.group === '' ? ref.version : `${ref.group}/${ref.version}`;
}

/** The reference of a manifest; namespace is '' until `withNamespace` resolves it. */
export function refOf(obj: KubeObject): ObjectRef {
  const { group, version } = splitApiVersion(obj.apiVersion);
  return { group, version, kind: obj.kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
}

/**
 * The key of an object across revisions. The version is left out on purpose: a chart moving a
 * Deployment from apps/v1beta2 to apps/v1 names the same object, which must not be pruned.
 */
export function keyOf(ref: ObjectRef): string {
  return `${ref.group}/${ref.kind}/${ref.namespace}/${ref.name}`;
}

export function describeRef(ref: ObjectRef): string {
  return ref.namespace === '' ? `${ref.kind} ${ref.name}` : `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** Apply tiers: what others live in (Namespaces, CRDs) goes first and is removed last. */
export function applyTier(ref: Pick<ObjectRef, 'group' | 'kind'>): number {
  if (ref.group === '' && ref.kind === 'Namespace') return 0;
  if (ref.group === 'apiextensions.k8s.io' && ref.kind === 'CustomResourceDefinition') return 1;
  return 2;
}

export function isCrd(ref: Pick<ObjectRef, 'group' | 'kind'>): boolean {
  return applyTier(ref) === 1;
}
