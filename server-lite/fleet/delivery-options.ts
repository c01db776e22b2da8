// What the server delivers with a deployment besides its manifests: the options the fleet agent
// enforces (keepResources, correctDrift, dependsOn resolved against the cluster's bundles…), and
// the key that says whether an agent already holds exactly this revision with these options.
// Pure: the spec lookup is passed in.
import type { BundleSpec } from './fleet-store.ts';
import { canonicalJson } from './manifest-set.ts';
import { matchesSelector } from './label-selector.ts';

/** A bundle deployed to a cluster, as `dependsOn` selectors see it. */
export interface BundleOnCluster { name: string; labels: Record<string, string> }

/** Options with their canonical JSON (the part of the held key that is not the revision). */
export interface DeliveryOptions { options: Record<string, unknown>; json: string }

/**
 * The bundles a `dependsOn` entry names on one cluster: by name, or every other bundle on that
 * cluster whose labels match its selector (both: must match both). A selector that matches nothing
 * there stays a dependency on a deployment the agent does not hold, so it waits, as in Fleet.
 */
export function resolveDependsOn(
  self: string,
  dep: NonNullable<BundleSpec['dependsOn']>[number],
  onCluster: readonly BundleOnCluster[],
): string[] {
  if (dep.selector === undefined) return dep.name === undefined ? [] : [dep.name];
  const selector = dep.selector;
  const names = onCluster.filter((b) => b.name !== self && (dep.name === undefined || b.name === dep.name) && matchesSelector(selector, b.labels)).map((b) => b.name).sort();
  return names.length > 0 ? names : [`selector:${canonicalJson(selector)}`];
}

/**
 * The deployment options the agent enforces, from a bundle's spec (fields absent when unset);
 * `onCluster` (the bundles deployed to the same cluster, with their labels) resolves selectors.
 */
export function agentOptions(spec: BundleSpec, self = '', onCluster: readonly BundleOnCluster[] = []): Record<string, unknown> {
  return {
    ...(spec.keepResources === undefined ? {} : { keepResources: spec.keepResources }),
    ...(spec.correctDrift === undefined ? {} : { correctDrift: spec.correctDrift }),
    ...(spec.comparePatches === undefined ? {} : { comparePatches: spec.comparePatches }),
    ...(spec.defaultNamespace === undefined ? {} : { defaultNamespace: spec.defaultNamespace }),
    ...(spec.takeOwnership === true ? { takeOwnership: true } : {}),
    ...(spec.dependsOn === undefined ? {} : {
      dependsOn: spec.dependsOn.flatMap((x) => resolveDependsOn(self, x, onCluster).map((deploymentId) => ({ deploymentId, ...(x.acceptedStates ? { acceptedStates: x.acceptedStates } : {}) }))),
    }),
  };
}

/** What an agent holds for one deployment, comparable with what the server would send. */
export function heldKey(revision: string, options: unknown): string {
  return heldKeyOf(revision, canonicalJson(options ?? null));
}

/** The held key from a revision and options already in canonical JSON. */
export const heldKeyOf = (revision: string, optionsJson: string): string => `${revision}\n${optionsJson}`;

/** The revision part of a held key. */
export const revisionOfHeldKey = (key: string): string => key.slice(0, key.indexOf('\n'));

/**
 * Options per bundle for one store generation: a bundle's spec and its options depend only on the
 * store, so they are read once per bundle, not once per deployment and agent. Options with
 * `dependsOn` selectors resolve against the bundles of each cluster and are not memoised.
 */
export class DeliveryOptionsMemo {
  readonly #specOf: (bundle: string) => BundleSpec;
  #options = new Map<string, DeliveryOptions>();
  #specs = new Map<string, BundleSpec>();
  #generation = -1;

  constructor(specOf: (bundle: string) => BundleSpec) {
    this.#specOf = specOf;
  }

  /** Drops the memos when the store changed since they were filled (at any point of a cycle). */
  at(generation: number): void {
    if (this.#generation === generation) return;
    this.#options = new Map();
    this.#specs = new Map();
    this.#generation = generation;
  }

  spec(bundle: string): BundleSpec {
    let spec = this.#specs.get(bundle);
    if (!spec) {
      spec = this.#specOf(bundle);
      this.#specs.set(bundle, spec);
    }
    return spec;
  }

  /** The options for `bundle` on a cluster whose assigned bundles are `assigned`. */
  of(bundle: string, assigned: readonly string[]): DeliveryOptions {
    let opts = this.#options.get(bundle);
    if (opts) return opts;
    const spec = this.spec(bundle);
    const perCluster = spec.dependsOn?.some((x) => x.selector !== undefined) === true;
    const onCluster = perCluster ? assigned.map((name) => ({ name, labels: this.spec(name).labels ?? {} })) : [];
    const options = agentOptions(spec, bundle, onCluster);
    opts = { options, json: canonicalJson(options) };
    if (!perCluster) this.#options.set(bundle, opts);
    return opts;
  }
}
