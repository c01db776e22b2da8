// What a user holds on a cluster, as the Kubernetes proxy needs it on every request (issue 12,
// decision 1150): the cluster roles (direct and through groups) and whether a project role makes
// the cluster visible. Cached per (user, cluster) under the store's authorisation generation,
// which the database bumps in the same transaction as every write those grants depend on; each
// lookup reads the generation first and serves an entry only when it was loaded under the same
// generation, so a revoked role is refused on the very next request, whichever process (CLI,
// another replica) wrote it. Pure: the generation and the loader are passed in.
import type { ClusterRole } from '../store/store.ts';

export interface Grants {
  /** Cluster roles, direct and through group bindings (duplicates kept, as listBindings gives them). */
  readonly roles: readonly ClusterRole[];
  /** A project of this cluster binds the user (the cluster is visible even without a cluster role). */
  readonly viaProject: boolean;
}

export interface GrantSource {
  /** The store's authorisation generation (Store.authzGeneration). */
  generation(): Promise<number>;
  load(userName: string, clusterId: string): Promise<Grants>;
}

/** Entries kept at most; the oldest go first (10,000 user × cluster pairs ≈ 2 MiB). */
export const GRANT_CACHE_MAX = 10_000;

export class GrantCache {
  readonly #source: GrantSource;
  readonly #max: number;
  /** Every entry was loaded under #gen: a change of generation clears the map. */
  readonly #entries = new Map<string, Grants>();
  #gen: number | undefined;
  #loads = 0;

  constructor(source: GrantSource, max = GRANT_CACHE_MAX) {
    this.#source = source;
    this.#max = max;
  }

  /** Loads from the source so far (for tests and metrics). */
  get loads(): number {
    return this.#loads;
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(userName: string, clusterId: string): Promise<Grants> {
    // The generation is read after the request began and before anything is served or loaded:
    // an entry is served only if it was loaded after a read of this same generation, so what it
    // holds is at least as new as the state when this request started.
    const gen = await this.#source.generation();
    if (gen !== this.#gen) {
      // Every entry of another generation is useless from now on (the number never repeats
      // while the database lives): drop them all rather than one by one.
      this.#entries.clear();
      this.#gen = gen;
    }
    const key = `${userName}\u0000${clusterId}`;
    const hit = this.#entries.get(key);
    if (hit) return hit;
    this.#loads++;
    const grants = await this.#source.load(userName, clusterId);
    // A lookup that saw a newer generation meanwhile has cleared the map: do not put back an
    // entry of an older one (it would never be served, only take room).
    if (this.#gen === gen) {
      if (this.#entries.size >= this.#max) {
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
      this.#entries.set(key, grants);
    }
    return grants;
  }
}
