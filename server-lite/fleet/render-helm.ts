// Helm bundles: `helm template` with the real binary, per target. Values precedence, lowest first:
// chart defaults < fleet.yaml values < fleet.yaml valuesFiles < the customization's valuesFiles and
// values; then cluster templating and `global.fleet.clusterLabels` (values.ts). Helm's caches and
// config live in a throwaway directory so renders never share or leak state.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { insideBundle, readBounded } from './bundle-files.ts';
import { FleetError } from './errors.ts';
import { parseManifests, type JsonObject } from './manifest-set.ts';
import type { Labels } from './label-selector.ts';
import type { EffectiveOptions } from './targeting.ts';
import { runTool, type RenderTools } from './tools.ts';
import { isRemoteChart, pullChart } from './render-helm-remote.ts';
import { mergeValues, templateValues, withClusterGlobals, type Values } from './values.ts';

/** Helm release names are DNS labels of at most 53 characters. */
export function releaseNameFor(bundle: string): string {
  const name = bundle.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, 53).replace(/-+$/, '');
  return name || 'release';
}

async function readValuesFile(dir: string, rel: string, bundle: string): Promise<Values> {
  const path = await insideBundle(dir, rel, bundle);
  const doc = parseDocument(await readBounded(path, rel, bundle));
  const err = doc.errors[0];
  if (err) throw new FleetError('MANIFEST_INVALID', `bundle ${bundle}: values file ${rel}: ${err.message.split('\n')[0]}`, { bundle, file: rel });
  const v: unknown = doc.toJS() ?? {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new FleetError('MANIFEST_INVALID', `bundle ${bundle}: values file ${rel} is not a mapping`, { bundle, file: rel });
  }
  return v as Values;
}

/** The merged, templated values a target renders with (exported for tests and `--dry-run` views). */
export async function valuesFor(input: { dir: string; bundle: string; options: EffectiveOptions; clusterName: string; clusterLabels: Labels }): Promise<Values> {
  let values: Values = {};
  for (const layer of input.options.helm?.valuesLayers ?? []) {
    const v = layer.kind === 'inline' ? layer.values : await readValuesFile(input.dir, layer.path, input.bundle);
    values = mergeValues(values, v);
  }
  const ctx = { clusterName: input.clusterName, clusterLabels: input.clusterLabels };
  return withClusterGlobals(templateValues(values, ctx, `bundle ${input.bundle}: helm values`) as Values, ctx);
}

/** Renders with `values` from valuesFor(); the caller keys its render cache on options and values. */
export async function renderHelm(input: {
  dir: string;
  bundle: string;
  target: string;
  options: EffectiveOptions;
  values: Values;
  tools: RenderTools;
}): Promise<JsonObject[]> {
  const { bundle, target, options, values } = input;
  const helm = options.helm;
  const chartRef = helm?.chart ?? '.';
  // A chart from a Helm repository or OCI registry is pulled with the source's credentials
  // (render-helm-remote.ts); a plain https:// tarball URL is passed through; anything else is a
  // path in the bundle.
  const pulled = isRemoteChart(helm?.chart, helm?.repo);
  const work = await mkdtemp(join(tmpdir(), 'drover-helm-'));
  try {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: work,
      HELM_CACHE_HOME: join(work, 'cache'),
      HELM_CONFIG_HOME: join(work, 'config'),
      HELM_DATA_HOME: join(work, 'data'),
      HELM_REGISTRY_CONFIG: join(work, 'config', 'registry.json'),
      HELM_REPOSITORY_CONFIG: join(work, 'config', 'repositories.yaml'),
    };
    const chart = pulled
      ? (await pullChart({ work, ref: { chart: chartRef, repo: helm?.repo, version: helm?.version }, bundle, target, tools: input.tools, env })).dir
      : /^https?:\/\//.test(chartRef) ? chartRef : await insideBundle(input.dir, chartRef, bundle);
    const valuesFile = join(work, 'values.json');
    await writeFile(valuesFile, JSON.stringify(values), { mode: 0o600 });
    const args = ['template', helm?.releaseName ?? releaseNameFor(bundle), chart, '--namespace', options.namespace ?? options.defaultNamespace ?? 'default', '--values', valuesFile, '--include-crds'];
    if (!pulled && helm?.version !== undefined && /^https?:\/\//.test(chartRef)) args.push('--version', helm.version);
    const out = await runTool(input.tools.helm(), args, {
      failure: 'HELM_RENDER_FAILED',
      what: `bundle ${bundle}, target ${target}: helm template ${chartRef}`,
      context: { bundle, target },
      env,
    }).catch((e: unknown) => {
      // helm's advice to re-run with --debug is for people at a shell, not for a bundle status.
      if (e instanceof FleetError) throw new FleetError(e.code, e.message.replace(/\s*Use --debug flag to render out invalid YAML\s*$/, ''), e.context);
      throw e;
    });
    return parseManifests(out, `${bundle} (helm template, target ${target})`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
