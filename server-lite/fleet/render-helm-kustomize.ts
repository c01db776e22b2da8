// Helm, then kustomize over Helm's output, as Fleet does for a bundle with a chart and a
// kustomization (decision 0803): the chart is rendered for the target, its output is written as
// `fleet-manifests.yaml` next to the target's kustomization (`kustomize.dir`, else the bundle
// root), put first in its `resources:`, and `kustomize build` of that directory is what deploys.
// Works on a copy of the bundle, so the source is never changed. The real binaries do the work.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { insideBundle } from './bundle-files.ts';
import { FleetError } from './errors.ts';
import type { JsonObject } from './manifest-set.ts';
import { renderKustomize } from './render-kustomize.ts';
import { hasFile } from './render-yaml.ts';
import type { RenderTools } from './tools.ts';

export const HELM_OUTPUT_FILE = 'fleet-manifests.yaml';

/** Fleet runs kustomize after Helm when the target's kustomize directory holds a kustomization.yaml. */
export function kustomizesHelmOutput(bundleDir: string, kustomizeDir: string | undefined): boolean {
  return hasFile(join(bundleDir, kustomizeDir ?? '.'), 'kustomization.yaml');
}

export async function kustomizeHelmOutput(input: {
  dir: string;
  kustomizeDir: string | undefined;
  helmObjects: readonly JsonObject[];
  bundle: string;
  target: string;
  tools: RenderTools;
}): Promise<JsonObject[]> {
  const { bundle, target } = input;
  const work = await mkdtemp(join(tmpdir(), 'drover-helm-kustomize-'));
  try {
    const copy = join(work, 'bundle');
    await cp(input.dir, copy, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.split(/[\\/]/).includes('.git') });
    const kdir = await insideBundle(copy, input.kustomizeDir ?? '.', bundle);
    const kfile = join(kdir, 'kustomization.yaml');
    const doc = parseDocument(await readFile(kfile, 'utf8'));
    if (doc.errors.length > 0 || !isMap(doc.contents)) {
      throw new FleetError('KUSTOMIZE_RENDER_FAILED', `bundle ${bundle}, target ${target}: ${input.kustomizeDir ?? '.'}/kustomization.yaml is not a YAML mapping`, { bundle, target });
    }
    if (input.helmObjects.length > 0) {
      const resources = doc.get('resources');
      if (resources !== undefined && !isSeq(resources)) {
        throw new FleetError('KUSTOMIZE_RENDER_FAILED', `bundle ${bundle}, target ${target}: resources in ${input.kustomizeDir ?? '.'}/kustomization.yaml is not a list`, { bundle, target });
      }
      const listed = isSeq(resources) ? resources.items.map((i) => String((i as { value?: unknown }).value ?? i)) : [];
      if (!listed.includes(HELM_OUTPUT_FILE)) doc.set('resources', [HELM_OUTPUT_FILE, ...listed]);
      // Never write through a symlink of the copy: replace the paths with new regular files.
      const text = doc.toString();
      for (const path of [join(kdir, HELM_OUTPUT_FILE), kfile]) await rm(path, { force: true });
      await writeFile(join(kdir, HELM_OUTPUT_FILE), input.helmObjects.map((o) => JSON.stringify(o)).join('\n---\n'), { flag: 'wx' });
      await writeFile(kfile, text, { flag: 'wx' });
    }
    return await renderKustomize({ dir: copy, kustomizeDir: input.kustomizeDir, bundle, target, tools: input.tools });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
