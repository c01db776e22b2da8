// Renders one bundle for each of its target clusters, all or nothing: the first failure throws a
// FleetError naming the bundle and target, and no partial result is returned, so a bad revision
// never replaces a good one. Renderer choice per target: Helm when a chart is named or Chart.yaml
// exists; else kustomize when kustomize.dir is set or kustomization.yaml exists; else plain YAML.
import type { DiscoveredBundle } from './discovery.ts';
import { FleetError } from './errors.ts';
import { canonicalJson, normaliseManifests, type ManifestSet } from './manifest-set.ts';
import { renderHelm } from './render-helm.ts';
import { renderKustomize } from './render-kustomize.ts';
import { hasFile, renderPlainYaml } from './render-yaml.ts';
import type { TargetDeployment } from './targeting.ts';
import type { RenderTools } from './tools.ts';

export type RendererKind = 'helm' | 'kustomize' | 'yaml';

export function rendererFor(bundle: DiscoveredBundle, target: TargetDeployment): RendererKind {
  if (target.options.helm?.chart !== undefined || hasFile(bundle.dir, 'Chart.yaml')) return 'helm';
  if (target.options.kustomizeDir !== undefined || hasFile(bundle.dir, 'kustomization.yaml') || hasFile(bundle.dir, 'kustomization.yml')) {
    return 'kustomize';
  }
  return 'yaml';
}

export interface RenderedTarget {
  clusterId: string;
  renderer: RendererKind;
  set: ManifestSet;
}

async function renderOne(bundle: DiscoveredBundle, target: TargetDeployment, tools: RenderTools): Promise<ManifestSet> {
  const kind = rendererFor(bundle, target);
  const targetName = target.cluster.name;
  const objects =
    kind === 'helm'
      ? await renderHelm({
          dir: bundle.dir,
          bundle: bundle.name,
          target: targetName,
          options: target.options,
          clusterName: target.cluster.name,
          clusterLabels: target.cluster.labels,
          tools,
        })
      : kind === 'kustomize'
        ? await renderKustomize({ dir: bundle.dir, kustomizeDir: target.options.kustomizeDir, bundle: bundle.name, target: targetName, tools })
        : await renderPlainYaml(bundle.dir, target.options.overlays, bundle.name);
  if (objects.length === 0) {
    throw new FleetError('BUNDLE_EMPTY', `bundle ${bundle.name}, target ${targetName}: renders to no objects`, { bundle: bundle.name, target: targetName });
  }
  return normaliseManifests(objects, { bundle: bundle.name, defaultNamespace: target.options.defaultNamespace, namespace: target.options.namespace });
}

/** Renders every target; identical inputs render once (Helm inputs include the cluster's name and labels). */
export async function renderBundle(bundle: DiscoveredBundle, targets: readonly TargetDeployment[], tools: RenderTools): Promise<RenderedTarget[]> {
  const cache = new Map<string, Promise<ManifestSet>>();
  const out: RenderedTarget[] = [];
  for (const target of targets) {
    const renderer = rendererFor(bundle, target);
    const key = canonicalJson({
      options: target.options,
      cluster: renderer === 'helm' ? { name: target.cluster.name, labels: target.cluster.labels } : null,
    });
    let pending = cache.get(key);
    if (!pending) {
      pending = renderOne(bundle, target, tools);
      cache.set(key, pending);
    }
    try {
      out.push({ clusterId: target.cluster.id, renderer, set: await pending });
    } catch (e) {
      if (e instanceof FleetError) throw e;
      throw new FleetError('MANIFEST_INVALID', `bundle ${bundle.name}, target ${target.cluster.name}: ${(e as Error).message}`, { bundle: bundle.name, target: target.cluster.name }, { cause: e });
    }
  }
  return out;
}
