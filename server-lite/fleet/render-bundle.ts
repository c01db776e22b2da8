// Renders one bundle for each of its target clusters, all or nothing: the first failure throws a
// FleetError naming the bundle and target, and no partial result is returned, so a bad revision
// never replaces a good one. Renderer choice per target: Helm when a chart is named or Chart.yaml
// exists, followed by kustomize over its output when the target's kustomize directory holds a
// kustomization.yaml (as Fleet does); else kustomize when kustomize.dir is set or kustomization.yaml
// exists; else plain YAML.
// Targets with equal inputs render once (for Helm: equal final values), a few renders at a time.
import { assertNoEscapingLinks } from './bundle-files.ts';
import type { DiscoveredBundle } from './discovery.ts';
import { FleetError } from './errors.ts';
import { FLEET_LIMITS } from './limits.ts';
import { canonicalJson, normaliseManifests, type JsonObject, type ManifestSet } from './manifest-set.ts';
import { renderHelm, valuesFor } from './render-helm.ts';
import { renderKustomize } from './render-kustomize.ts';
import { kustomizeHelmOutput, kustomizesHelmOutput } from './render-helm-kustomize.ts';
import { hasFile, renderPlainYaml } from './render-yaml.ts';
import type { TargetDeployment } from './targeting.ts';
import type { RenderTools } from './tools.ts';
import type { Values } from './values.ts';

export type RendererKind = 'helm' | 'helm+kustomize' | 'kustomize' | 'yaml';

export function rendererFor(bundle: DiscoveredBundle, target: TargetDeployment): RendererKind {
  if (target.options.helm?.chart !== undefined || hasFile(bundle.dir, 'Chart.yaml')) {
    return kustomizesHelmOutput(bundle.dir, target.options.kustomizeDir) ? 'helm+kustomize' : 'helm';
  }
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

interface Job {
  key: string;
  renderer: RendererKind;
  target: TargetDeployment;
  values?: Values | undefined;
}

function asFleetError(e: unknown, bundle: string, target: string): FleetError {
  if (e instanceof FleetError) return e;
  return new FleetError('MANIFEST_INVALID', `bundle ${bundle}, target ${target}: ${(e as Error).message}`, { bundle, target }, { cause: e });
}

async function run(bundle: DiscoveredBundle, job: Job, tools: RenderTools): Promise<ManifestSet> {
  const { target } = job;
  const targetName = target.cluster.name;
  let objects: JsonObject[];
  if (job.renderer === 'helm' || job.renderer === 'helm+kustomize') {
    objects = await renderHelm({ dir: bundle.dir, bundle: bundle.name, target: targetName, options: target.options, values: job.values ?? {}, tools });
    if (job.renderer === 'helm+kustomize') {
      objects = await kustomizeHelmOutput({ dir: bundle.dir, kustomizeDir: target.options.kustomizeDir, helmObjects: objects, bundle: bundle.name, target: targetName, tools });
    }
  } else if (job.renderer === 'kustomize') {
    objects = await renderKustomize({ dir: bundle.dir, kustomizeDir: target.options.kustomizeDir, bundle: bundle.name, target: targetName, tools });
  } else {
    objects = await renderPlainYaml(bundle.dir, target.options.overlays, bundle.name);
  }
  if (objects.length === 0) {
    throw new FleetError('BUNDLE_EMPTY', `bundle ${bundle.name}, target ${targetName}: renders to no objects`, { bundle: bundle.name, target: targetName });
  }
  return normaliseManifests(objects, { bundle: bundle.name, defaultNamespace: target.options.defaultNamespace, namespace: target.options.namespace });
}

export async function renderBundle(
  bundle: DiscoveredBundle,
  targets: readonly TargetDeployment[],
  tools: RenderTools,
  concurrency: number = FLEET_LIMITS.renderConcurrency,
): Promise<RenderedTarget[]> {
  await assertNoEscapingLinks(bundle.dir, bundle.name);
  // 1. Inputs per target; Helm values are computed here (cheap) so equal values share one render.
  const jobs = new Map<string, Job>();
  const keyOf: string[] = [];
  for (const target of targets) {
    const renderer = rendererFor(bundle, target);
    let values: Values | undefined;
    if (renderer === 'helm' || renderer === 'helm+kustomize') {
      try {
        values = await valuesFor({ dir: bundle.dir, bundle: bundle.name, options: target.options, clusterName: target.cluster.name, clusterLabels: target.cluster.labels });
      } catch (e) {
        throw asFleetError(e, bundle.name, target.cluster.name);
      }
    }
    const key = canonicalJson({ renderer, options: target.options, values: values ?? null });
    keyOf.push(key);
    if (!jobs.has(key)) jobs.set(key, { key, renderer, target, values });
  }
  // 2. Render the distinct jobs, `concurrency` at a time; the first failure stops new starts.
  const results = new Map<string, ManifestSet>();
  const queue = [...jobs.values()];
  let failure: FleetError | undefined;
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job && !failure; job = queue.shift()) {
      try {
        results.set(job.key, await run(bundle, job, tools));
      } catch (e) {
        failure ??= asFleetError(e, bundle.name, job.target.cluster.name);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
  if (failure) throw failure;
  return targets.map((target, i) => {
    const set = results.get(keyOf[i] ?? '');
    if (!set) throw new Error(`internal: no render for ${target.cluster.id}`);
    return { clusterId: target.cluster.id, renderer: rendererFor(bundle, target), set };
  });
}
