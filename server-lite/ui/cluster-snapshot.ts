// Every cluster's view (views.ts, as GET /v1/clusters builds it), computed at most once per
// MAX_AGE_MS and shared by all page views and live streams: with 10,000 clusters one build costs
// tens of milliseconds of CPU, and each open clusters page re-renders every 2 s (events.ts), so
// without sharing the cost would grow with the number of open pages. States are at most
// MAX_AGE_MS older than the request; they change on a heartbeat scale (15 s) anyway.
import type { ServerContext } from '../context.ts';
import { clusterView, indexBy, type ClusterView } from '../views.ts';

export const MAX_AGE_MS = 1000;

export class ClusterSnapshot {
  readonly #ctx: ServerContext;
  #built: { at: number; views: ClusterView[] } | undefined;
  #building: Promise<ClusterView[]> | undefined;

  readonly #onBuilt: ((views: readonly ClusterView[]) => void) | undefined;

  /** onBuilt: called with each new build (the state history samples from it). */
  constructor(ctx: ServerContext, onBuilt?: (views: readonly ClusterView[]) => void) {
    this.#ctx = ctx;
    this.#onBuilt = onBuilt;
  }

  /** The views, rebuilt when older than MAX_AGE_MS by the server's clock (ctx.clock; a step back
   *  also rebuilds); concurrent callers share one build. */
  async get(): Promise<ClusterView[]> {
    const now = this.#ctx.clock.now();
    if (this.#built && now >= this.#built.at && now - this.#built.at < MAX_AGE_MS) return this.#built.views;
    this.#building ??= (async () => {
      try {
        const store = this.#ctx.store;
        // Liveness columns only when the store has them: facts JSON of 10,000 agents is not parsed.
        const byCluster = indexBy(store.listAgentLiveness ? await store.listAgentLiveness() : await store.listAgents(), 'clusterId');
        const views = (await this.#ctx.store.listClusters()).map((c) => clusterView(this.#ctx, c, byCluster.get(c.id) ?? []));
        this.#built = { at: this.#ctx.clock.now(), views };
        this.#onBuilt?.(views);
        return views;
      } finally {
        this.#building = undefined;
      }
    })();
    return this.#building;
  }

  /** Forget the snapshot (the dashboard changed something a page shows). */
  invalidate(): void {
    this.#built = undefined;
  }
}
