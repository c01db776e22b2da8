// fleet.yaml as Fleet reads it (pure; decision 0803, docs/fleet.md "Every fleet.yaml key"):
// - `""` and null mean unset for every option (Fleet unmarshals them into omitempty fields), but
//   never inside user data (`helm.values`, label and annotation maps);
// - every key of Fleet's fleet.yaml that Drover does not implement is either ignored with a warning
//   (it changes how Fleet deploys, not what) or refused with the reason (ignoring it would deploy
//   something else than Fleet would: other values, other clusters);
// - a key Fleet does not know either is a warning naming the closest known key (Fleet ignores it
//   silently); `--strict` makes it an error.

/** Maps whose contents are the user's data, not options: nothing inside is rewritten or checked. */
const USER_DATA = new Set(['values', 'labels', 'annotations', 'matchLabels', 'namespaceLabels', 'namespaceAnnotations', 'templateValues', 'value']);

/** Drops `""` and null option values, recursively, leaving user data alone. */
export function dropUnset(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' && v !== null ? dropUnset(v) : v));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null) continue;
    if (USER_DATA.has(k)) {
      out[k] = v; // user data, as written (an operation's `value: ""` is a value)
      continue;
    }
    if (v === '') continue;
    out[k] = dropUnset(v);
  }
  return out;
}

export type Treatment = { action: 'warn' | 'refuse'; reason: string; when?: (value: unknown) => boolean };

const warn = (reason: string): Treatment => ({ action: 'warn', reason });
const refuse = (reason: string): Treatment => ({ action: 'refuse', reason });

/** Options valid at the top level and in each targetCustomization (Fleet's BundleDeploymentOptions). */
const PER_TARGET: Record<string, Treatment> = {
  serviceAccount: warn('Drover applies as the fleet agent itself, not as a service account of the bundle'),
  createNamespace: warn('Drover creates the namespaces a bundle uses'),
  forceSyncGeneration: warn('Drover re-applies when the content or options change; use `drover bundle apply` again to force one'),
  deleteNamespace: warn('Drover never deletes namespaces when a bundle goes away'),
  deleteCRDResources: warn('Drover keeps CRDs when a bundle goes away'),
  namespaceLabels: warn('Drover does not label or annotate the bundle namespace yet; put a Namespace object in the bundle'),
  namespaceAnnotations: warn('Drover does not label or annotate the bundle namespace yet; put a Namespace object in the bundle'),
  'correctDrift.keepFailHistory': warn('Drover keeps no Helm history'),
  ignore: warn('Drover does not ignore status conditions when computing readiness'),
  downstreamResources: refuse('Drover does not copy Secrets or ConfigMaps to clusters; the bundle would deploy without them'),
  'helm.timeoutSeconds': warn('Drover applies rendered objects and tracks readiness itself; it does not wait as `helm install --wait` does'),
  'helm.force': warn('Drover applies with server-side apply, never by replacing objects'),
  'helm.atomic': warn('Drover keeps the last good revision applied; there is no Helm rollback'),
  'helm.waitForJobs': warn('Drover reports Jobs as NotReady until they complete, without holding the apply'),
  'helm.maxHistory': warn('Drover keeps no Helm history'),
  'helm.disableDNS': warn('Drover renders with `helm template`, which resolves no DNS'),
  'helm.skipSchemaValidation': warn('Drover always validates values against the chart schema'),
  'helm.disableDependencyUpdate': warn('Drover renders the chart as it is in the source (dependencies vendored in charts/)'),
  'helm.disablePreProcess': { action: 'refuse', reason: 'Drover always renders `${ }` templates in values', when: (v) => v === true },
  'helm.templateValues': refuse('Drover supports `${ .ClusterName }` and `${ .ClusterLabels.KEY }` in helm.values, not Go templates; the chart would get other values'),
  'helm.valuesFrom': refuse('Drover does not read values from ConfigMaps or Secrets on the cluster; the chart would get other values'),
};

const TOP_ONLY: Record<string, Treatment> = {
  name: warn('Drover names a bundle after its path (and `drover bundle apply --name`)'),
  'targetCustomizations[].helm.takeOwnership': warn('Drover takes ownership per bundle: set helm.takeOwnership at the top level'),
  annotations: warn('Drover keeps no bundle annotations'),
  targetCustomizationMode: { action: 'refuse', reason: 'Drover applies the first matching targetCustomization only (FirstMatch)', when: (v) => v !== 'FirstMatch' },
  targets: refuse('use targetCustomizations (and `--target` or gitrepo targets); Fleet appends both lists'),
  overrideTargets: refuse('Drover targets with `--target` / gitrepo targets; a fleet.yaml cannot replace them'),
  imageScans: refuse('Drover does not scan registries or write image tags back to git'),
  'rolloutStrategy.autoPartitionSize': warn('Drover does not make partitions automatically; clusters outside the partitions form one'),
  'rolloutStrategy.autoPartitionThreshold': warn('Drover does not make partitions automatically'),
  'rolloutStrategy.maxNew': warn('Drover assigns revisions to every eligible cluster at once'),
  'rolloutStrategy.partitions[].clusterGroupSelector': refuse('Drover matches partitions by clusterName, clusterSelector or clusterGroup; the partition would hold other clusters'),
  'targetCustomizations[].clusterGroupSelector': refuse('Drover matches customizations by clusterName, clusterSelector or clusterGroup; the customization would apply to other clusters'),
};

/** Every Fleet fleet.yaml key Drover does not implement, by dotted path (`[]` for list items). */
export const UNSUPPORTED_FLEET_KEYS: Readonly<Record<string, Treatment>> = Object.freeze({
  ...PER_TARGET,
  ...Object.fromEntries(Object.entries(PER_TARGET).map(([k, v]) => [`targetCustomizations[].${k}`, v])),
  ...TOP_ONLY,
});

/** The key paths of a value, with `[]` for list items (`targetCustomizations[].helm.chart`), and the value at each. */
export function keyPaths(value: unknown, prefix = ''): { path: string; concrete: string; value: unknown }[] {
  const out: { path: string; concrete: string; value: unknown }[] = [];
  const walk = (v: unknown, path: string, concrete: string): void => {
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, `${path}[]`, `${concrete}[${i}]`));
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      const p = path ? `${path}.${k}` : k;
      const c = concrete ? `${concrete}.${k}` : k;
      out.push({ path: p, concrete: c, value: child });
      if (!USER_DATA.has(k)) walk(child, p, c);
    }
  };
  walk(value, prefix, prefix);
  return out;
}

/** Removes the value at a concrete path such as `targetCustomizations[1].helm.force`. */
export function removeAt(root: unknown, concrete: string): void {
  const parts = concrete.split(/\.|(?=\[)/).filter(Boolean);
  let node: unknown = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i] ?? '';
    const index = /^\[(\d+)\]$/.exec(part);
    node = index ? (node as unknown[])[Number(index[1])] : (node as Record<string, unknown>)[part];
    if (typeof node !== 'object' || node === null) return;
  }
  const last = parts[parts.length - 1] ?? '';
  if (!/^\[/.test(last)) delete (node as Record<string, unknown>)[last];
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return (d[a.length] as number[])[b.length] ?? 0;
}

/** The closest of `known` to `key` (a near miss: at most a third of its letters differ), if any. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD > 0 && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}
