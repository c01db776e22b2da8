// From a source (a pushed directory or a gitrepo checkout) to rendered bundles: discover, target,
// render. Bundles are independent: a bad one gets its error and no result, the others render (as in
// Fleet, one broken fleet.yaml must not stop every other app). Within a bundle it is all or nothing.
import { assertNoDependencyCycle } from './dependencies.ts';
import { scanBundles, type DiscoveredBundle } from './discovery.ts';
import { FleetError, isFleetError } from './errors.ts';
import { sha256 } from './manifest-set.ts';
import { renderBundle, type RenderedTarget } from './render-bundle.ts';
import { resolveTargets, type ClusterGroup, type ClusterInfo, type TargetCriteria } from './targeting.ts';
import type { RenderTools } from './tools.ts';

export interface RenderedBundle {
  name: string;
  path: string;
  bundle: DiscoveredBundle;
  /** sha256 over the distinct target revisions: changes exactly when some target's content does. */
  revision: string;
  targets: RenderedTarget[];
  excluded: { clusterId: string; customization: string }[];
  unmatchedCustomizations: string[];
  /** fleet.yaml keys ignored and targets that match no cluster: shown at apply and in bundle status. */
  warnings: string[];
}

export type BundleOutcome = { ok: true; result: RenderedBundle } | { ok: false; name: string; path: string; error: FleetError };

const nameOf = (o: BundleOutcome): string => (o.ok ? o.result.name : o.name);

export function bundleRevision(targets: readonly RenderedTarget[]): string {
  const revisions = [...new Set(targets.map((t) => t.set.revision))].sort();
  return sha256(revisions.join('\n'));
}

export async function renderDiscovered(input: {
  bundles: readonly DiscoveredBundle[];
  clusters: readonly ClusterInfo[];
  groups: readonly ClusterGroup[];
  targets?: readonly TargetCriteria[] | undefined;
  /** `drover bundle apply --namespace`: the default namespace of bundles whose fleet.yaml sets none. */
  defaultNamespace?: string | undefined;
  tools: RenderTools;
}): Promise<BundleOutcome[]> {
  const out: BundleOutcome[] = [];
  for (const bundle of input.bundles) {
    try {
      const fleetYaml = bundle.fleetYaml.defaultNamespace === undefined && input.defaultNamespace !== undefined ? { ...bundle.fleetYaml, defaultNamespace: input.defaultNamespace } : bundle.fleetYaml;
      const resolution = resolveTargets({ bundle: bundle.name, fleetYaml, targets: input.targets, clusters: input.clusters, groups: input.groups });
      const targets = await renderBundle(bundle, resolution.deployments, input.tools);
      out.push({
        ok: true,
        result: {
          name: bundle.name,
          path: bundle.path,
          bundle,
          revision: bundleRevision(targets),
          targets,
          excluded: resolution.excluded,
          unmatchedCustomizations: resolution.unmatchedCustomizations,
          warnings: [
            ...bundle.warnings,
            ...resolution.warnings,
            ...(targets.length === 0 ? [`bundle ${bundle.name} targets no cluster`] : []),
          ],
        },
      });
    } catch (e) {
      const error = isFleetError(e) ? e : new FleetError('MANIFEST_INVALID', `bundle ${bundle.name}: ${(e as Error).message}`, { bundle: bundle.name }, { cause: e });
      out.push({ ok: false, name: bundle.name, path: bundle.path, error });
    }
  }
  return out;
}

/**
 * Scans and renders a source; a bundle with a bad fleet.yaml is one failed outcome, not a failed
 * source. A dependsOn cycle fails the source (DEPENDENCY_CYCLE): no order of its bundles works.
 */
export async function renderSource(input: {
  root: string;
  prefix: string;
  paths?: readonly string[] | undefined;
  clusters: readonly ClusterInfo[];
  groups: readonly ClusterGroup[];
  targets?: readonly TargetCriteria[] | undefined;
  defaultNamespace?: string | undefined;
  /** Unknown fleet.yaml keys are errors instead of warnings (`--strict`). */
  strict?: boolean | undefined;
  tools: RenderTools;
}): Promise<BundleOutcome[]> {
  const scan = await scanBundles(input.root, { paths: input.paths, prefix: input.prefix, strict: input.strict });
  assertNoDependencyCycle(scan.bundles.map((b) => ({ name: b.name, dependsOn: b.fleetYaml.dependsOn })));
  const rendered = await renderDiscovered({ ...input, bundles: scan.bundles });
  const failed: BundleOutcome[] = scan.failed.map((f) => ({ ok: false, ...f }));
  return [...failed, ...rendered].sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
}
