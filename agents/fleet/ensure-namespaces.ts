// Target namespaces a bundle uses but does not declare (Fleet's `defaultNamespace: x` with no
// Namespace object in the bundle) are created before anything is applied into them, as Fleet does.
// They are not part of the deployment's inventory: pruning a revision, or deleting the bundle,
// never deletes a namespace the bundle did not declare (other things may live there).
import type { Kube } from './kube.ts';
import type { ObjectRef } from './types.ts';
import { keyOf } from './object-ref.ts';

const namespaceRef = (name: string): ObjectRef => ({ group: '', version: 'v1', kind: 'Namespace', namespace: '', name });

/** Namespaces that `refs` live in but that no Namespace object among `refs` declares, sorted. */
export function undeclaredNamespaces(refs: readonly ObjectRef[]): string[] {
  const declared = new Set(refs.map(keyOf));
  const used = new Set(refs.map((r) => r.namespace).filter((ns) => ns !== ''));
  return [...used].filter((ns) => !declared.has(keyOf(namespaceRef(ns)))).sort();
}

/** Creates each undeclared namespace that does not exist yet; returns the names it created. */
export async function ensureNamespaces(kube: Kube, refs: readonly ObjectRef[]): Promise<string[]> {
  const created: string[] = [];
  for (const ns of undeclaredNamespaces(refs)) {
    if (await kube.get(namespaceRef(ns))) continue;
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'app.kubernetes.io/created-by': 'drover' } } });
    created.push(ns);
  }
  return created;
}
