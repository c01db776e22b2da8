// Which bundle an object on the cluster belongs to (pure; decision 0805). Every object the fleet
// agent applies carries the label `drover.dev/bundle=<bundle>`, so `kubectl get -l
// drover.dev/bundle=NAME` lists a bundle's objects. A bundle never takes over an object another
// bundle owns (ErrApplied naming the owner) unless its fleet.yaml asks with Fleet's
// `helm.takeOwnership`, and pruning deletes only objects still labelled for the pruning bundle.
import type { KubeObject } from './types.ts';

export const BUNDLE_LABEL = 'drover.dev/bundle';

/** The manifest as applied: with the bundle label. */
export function withOwner(obj: KubeObject, bundle: string): KubeObject {
  const metadata = (obj.metadata ?? {}) as KubeObject['metadata'] & { labels?: Record<string, string> };
  return { ...obj, metadata: { ...metadata, labels: { ...(metadata.labels ?? {}), [BUNDLE_LABEL]: bundle } } };
}

/** The bundle a live object belongs to, if any. */
export function ownerOf(live: KubeObject | undefined): string | undefined {
  const labels = (live?.metadata as { labels?: Record<string, unknown> } | undefined)?.labels;
  const v = labels?.[BUNDLE_LABEL];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Another bundle that owns the live object (and is not to be taken over from), else undefined. */
export function foreignOwner(live: KubeObject | undefined, bundle: string, takeOwnership: boolean): string | undefined {
  const owner = ownerOf(live);
  return owner !== undefined && owner !== bundle && !takeOwnership ? owner : undefined;
}
