// PUT bodies for fleet agents, built once and shared: the same bytes for every agent of one
// revision and options, deltas decided once per base (decision 0755), and the manifest sets they
// come from kept for the newest few revisions (one change to 10k clusters reassembles its blobs
// once, not 10k times). Revisions are content addresses, so an entry is never stale.
import { FLEET_SYNC_LIMITS } from './limits.ts';
import type { ManifestSet } from './manifest-set.ts';
import { diffManifestSets } from './manifest-delta.ts';

export class DeliveryBodies {
  readonly #load: (revision: string) => Promise<ManifestSet>;
  /** Recently sent manifest sets by revision. */
  readonly #sets = new Map<string, Promise<ManifestSet>>();
  /** Serialised PUT bodies by bundle, revision and options (the newest few). */
  readonly #bodies = new Map<string, Buffer>();
  /** bundle, key and base → the delta body, or null when a delta is not worth it. */
  readonly #deltas = new Map<string, Buffer | null>();

  constructor(load: (revision: string) => Promise<ManifestSet>) {
    this.#load = load;
  }

  /** The manifest set of a revision (shared while it is among the newest few). */
  set(revision: string): Promise<ManifestSet> {
    let p = this.#sets.get(revision);
    if (!p) {
      p = this.#load(revision);
      p.catch(() => this.#sets.delete(revision));
      this.#sets.set(revision, p);
      // Keep the newest few: sets can be tens of MiB.
      while (this.#sets.size > FLEET_SYNC_LIMITS.cachedSets) this.#sets.delete(this.#sets.keys().next().value ?? '');
    }
    return p;
  }

  /** The PUT body with the whole set; the same bytes for every agent of this revision and options. */
  full(bundle: string, key: string, set: ManifestSet, options: Record<string, unknown>): Buffer {
    const cacheKey = `${bundle}\n${key}`;
    let body = this.#bodies.get(cacheKey);
    if (!body) {
      body = Buffer.from(JSON.stringify({ id: bundle, bundle, revision: set.revision, manifests: set.objects.map((o) => o.object), options }));
      this.#bodies.set(cacheKey, body);
      while (this.#bodies.size > FLEET_SYNC_LIMITS.cachedBodies) this.#bodies.delete(this.#bodies.keys().next().value ?? '');
    }
    return body;
  }

  /** The PUT body as a delta from `from`, or undefined when the base is gone or the delta is not much smaller. */
  async delta(bundle: string, key: string, from: string, set: ManifestSet, options: Record<string, unknown>): Promise<Buffer | undefined> {
    const cacheKey = `${bundle}\n${key}\n${from}`;
    const known = this.#deltas.get(cacheKey);
    if (known !== undefined) return known ?? undefined;
    let base: ManifestSet;
    try {
      base = await this.set(from);
    } catch {
      return undefined;
    }
    const d = diffManifestSets(base, set);
    const body = Buffer.from(JSON.stringify({
      id: bundle, bundle, revision: set.revision, options,
      delta: { from, upserts: d.upserts.map((e) => ({ id: e.id, object: e.object })), removals: d.removals },
    }));
    // The decision is cached with the body: every agent at this base gets the same answer.
    const worth = body.length * FLEET_SYNC_LIMITS.deltaMinSaving < this.full(bundle, key, set, options).length ? body : null;
    this.#deltas.set(cacheKey, worth);
    while (this.#deltas.size > FLEET_SYNC_LIMITS.cachedBodies) this.#deltas.delete(this.#deltas.keys().next().value ?? '');
    return worth ?? undefined;
  }
}
