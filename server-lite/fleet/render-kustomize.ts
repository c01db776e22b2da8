// Kustomize bundles: `kustomize build` on the bundle directory or on `kustomize.dir` inside it
// (per target, so a customization can pick overlays/prod). The real binary does the work.
import { insideBundle } from './bundle-files.ts';
import { parseManifests, type JsonObject } from './manifest-set.ts';
import { runTool, type RenderTools } from './tools.ts';

export async function renderKustomize(input: {
  dir: string;
  kustomizeDir: string | undefined;
  bundle: string;
  target: string;
  tools: RenderTools;
}): Promise<JsonObject[]> {
  const { bundle, target } = input;
  const dir = await insideBundle(input.dir, input.kustomizeDir ?? '.', bundle);
  const out = await runTool(input.tools.kustomize(), ['build', dir], {
    failure: 'KUSTOMIZE_RENDER_FAILED',
    what: `bundle ${bundle}, target ${target}: kustomize build ${input.kustomizeDir ?? '.'}`,
    context: { bundle, target },
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
  });
  return parseManifests(out, `${bundle} (kustomize build, target ${target})`);
}
