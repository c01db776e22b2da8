// Targeting: which clusters get a bundle, and with which per-target options. A bundle's targets
// (from `drover bundle apply --target` or the gitrepo) choose clusters; fleet.yaml's
// targetCustomizations only customise, and the first one that matches a cluster wins (Fleet's rule).
// A bundle target that matches no cluster is an error; a customization that matches none is reported.
import { FleetError } from './errors.ts';
import type { FleetYaml, LabelSelector, TargetCustomization } from './fleet-yaml.ts';
import { formatSelector, matchesSelector, validateSelector, type Labels } from './label-selector.ts';

export interface ClusterInfo {
  id: string;
  name: string;
  labels: Labels;
}

export interface ClusterGroup {
  name: string;
  selector: LabelSelector;
}

/** Criteria shared by bundle targets, customizations and rollout partitions; all given ones must match. */
export interface TargetCriteria {
  name?: string | undefined;
  clusterName?: string | undefined;
  clusterSelector?: LabelSelector | undefined;
  clusterGroup?: string | undefined;
}

/** One layer of Helm values, lowest precedence first (see render-helm.ts). */
export type ValuesLayer = { kind: 'inline'; values: Record<string, unknown> } | { kind: 'file'; path: string };

/** What the renderer needs for one cluster: fleet.yaml's options with the customization folded in. */
export interface EffectiveOptions {
  defaultNamespace?: string | undefined;
  namespace?: string | undefined;
  helm?: { chart?: string; repo?: string; version?: string; releaseName?: string; valuesLayers: ValuesLayer[] } | undefined;
  kustomizeDir?: string | undefined;
  overlays: string[];
}

export interface TargetDeployment {
  cluster: ClusterInfo;
  /** Name (or `#index`) of the customization applied, if any. */
  customization?: string | undefined;
  options: EffectiveOptions;
}

export interface TargetResolution {
  deployments: TargetDeployment[];
  /** Clusters chosen by the targets but excluded by a `doNotDeploy` customization. */
  excluded: { clusterId: string; customization: string }[];
  /** Customizations that matched no targeted cluster: reported so a typo in a selector is visible. */
  unmatchedCustomizations: string[];
  /** Targets that match no cluster, naming what the user wrote (Fleet allows them; so do we). */
  warnings: string[];
}

/** With no explicit targets a bundle goes to every cluster (Fleet's default group matches all). */
export const ALL_CLUSTERS: readonly TargetCriteria[] = Object.freeze([{ name: 'all', clusterSelector: {} }]);

function label(c: TargetCriteria, index: number): string {
  return c.name ?? `#${index}`;
}

/** What the user wrote for a target: its selector, cluster name or group (for messages). */
export function describeCriteria(c: TargetCriteria): string {
  const parts: string[] = [];
  if (c.clusterName !== undefined) parts.push(`cluster=${c.clusterName}`);
  if (c.clusterGroup !== undefined) parts.push(`group=${c.clusterGroup}`);
  if (c.clusterSelector !== undefined) parts.push(`selector ${formatSelector(c.clusterSelector)}`);
  return parts.length > 0 ? `"${parts.join(', ')}"` : `"${c.name ?? 'unnamed'}"`;
}


/** True when every criterion the target sets matches; a target that sets none matches nothing. */
export function matchesTarget(c: TargetCriteria, cluster: ClusterInfo, groups: ReadonlyMap<string, ClusterGroup>): boolean {
  if (c.clusterName === undefined && c.clusterSelector === undefined && c.clusterGroup === undefined) return false;
  if (c.clusterName !== undefined && c.clusterName !== cluster.name && c.clusterName !== cluster.id) return false;
  if (c.clusterSelector !== undefined && !matchesSelector(c.clusterSelector, cluster.labels)) return false;
  if (c.clusterGroup !== undefined) {
    const group = groups.get(c.clusterGroup);
    if (!group || !matchesSelector(group.selector, cluster.labels)) return false;
  }
  return true;
}

/** Checks selectors and group references up front so a bad one fails the bundle, not one cluster. */
export function validateCriteria(c: TargetCriteria, where: string, groups: ReadonlyMap<string, ClusterGroup>, bundle: string): void {
  if (c.clusterSelector) validateSelector(c.clusterSelector, where);
  if (c.clusterGroup !== undefined && !groups.has(c.clusterGroup)) {
    throw new FleetError('TARGET_NO_MATCH', `${where}: cluster group "${c.clusterGroup}" does not exist; create it with \`drover clustergroup create\``, {
      bundle,
      target: c.name ?? c.clusterGroup,
    });
  }
}

function effectiveOptions(top: FleetYaml, custom: TargetCustomization | undefined): EffectiveOptions {
  const layers: ValuesLayer[] = [];
  // Precedence, lowest first: fleet.yaml values < fleet.yaml valuesFiles < the customization's.
  if (top.helm?.values) layers.push({ kind: 'inline', values: top.helm.values });
  for (const path of top.helm?.valuesFiles ?? []) layers.push({ kind: 'file', path });
  for (const path of custom?.helm?.valuesFiles ?? []) layers.push({ kind: 'file', path });
  if (custom?.helm?.values) layers.push({ kind: 'inline', values: custom.helm.values });
  const { values: _v, valuesFiles: _f, ...topHelm } = top.helm ?? {};
  const { values: _cv, valuesFiles: _cf, ...customHelm } = custom?.helm ?? {};
  const hasHelm = top.helm !== undefined || custom?.helm !== undefined;
  return {
    defaultNamespace: custom?.defaultNamespace ?? top.defaultNamespace,
    namespace: custom?.namespace ?? top.namespace,
    helm: hasHelm ? { ...topHelm, ...customHelm, valuesLayers: layers } : undefined,
    kustomizeDir: custom?.kustomize?.dir ?? top.kustomize?.dir,
    overlays: custom?.yaml?.overlays ?? top.yaml?.overlays ?? [],
  };
}

export function resolveTargets(input: {
  bundle: string;
  fleetYaml: FleetYaml;
  targets?: readonly TargetCriteria[] | undefined;
  clusters: readonly ClusterInfo[];
  groups: readonly ClusterGroup[];
}): TargetResolution {
  const { bundle, fleetYaml } = input;
  const groups = new Map(input.groups.map((g) => [g.name, g]));
  const explicit = input.targets !== undefined && input.targets.length > 0;
  const targets = explicit ? (input.targets ?? []) : ALL_CLUSTERS;
  const customizations = fleetYaml.targetCustomizations ?? [];
  targets.forEach((t, i) => validateCriteria(t, `bundle ${bundle}: target ${label(t, i)}`, groups, bundle));
  customizations.forEach((c, i) => validateCriteria(c, `bundle ${bundle}: targetCustomization ${label(c, i)}`, groups, bundle));

  const clusters = [...input.clusters].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // As in Fleet, a target may match nothing (yet): the bundle then deploys to fewer clusters, and
  // the warning names what the user wrote.
  const warnings: string[] = [];
  if (explicit) {
    targets.forEach((t, i) => {
      if (!clusters.some((c) => matchesTarget(t, c, groups))) {
        warnings.push(`bundle ${bundle}: target ${describeCriteria(t)} matches no cluster`);
      }
    });
  }
  const used = new Set<number>();
  const result: TargetResolution = { deployments: [], excluded: [], unmatchedCustomizations: [], warnings };
  for (const cluster of clusters) {
    if (!targets.some((t) => matchesTarget(t, cluster, groups))) continue;
    const index = customizations.findIndex((c) => matchesTarget(c, cluster, groups));
    const custom = index >= 0 ? customizations[index] : undefined;
    if (custom) used.add(index);
    const name = custom ? label(custom, index) : undefined;
    if (custom?.doNotDeploy) {
      result.excluded.push({ clusterId: cluster.id, customization: name ?? '' });
      continue;
    }
    result.deployments.push({ cluster, customization: name, options: effectiveOptions(fleetYaml, custom) });
  }
  customizations.forEach((c, i) => {
    if (!used.has(i)) result.unmatchedCustomizations.push(label(c, i));
  });
  return result;
}
