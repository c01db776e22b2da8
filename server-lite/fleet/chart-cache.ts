// Charts pulled from a Helm repository or OCI registry, shared by every target of one render pass
// (a gitrepo poll): with `${ .ClusterName }` in values each cluster is its own helm run, and
// without this each would download the chart again. A pull in flight is shared too; a failed pull
// is shared as well (every target would fail the same way). dispose() removes the charts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PulledChart {
  dir: string;
  version: string;
}

export class ChartCache {
  readonly #entries = new Map<string, Promise<PulledChart>>();
  #base: Promise<string> | undefined;
  pulls = 0;

  /** The chart for `key` (repository, chart, version range), pulled by `pull` into a fresh directory once. */
  fetch(key: string, pull: (into: string) => Promise<PulledChart>): Promise<PulledChart> {
    let p = this.#entries.get(key);
    if (p === undefined) {
      p = (async () => {
        this.#base ??= mkdtemp(join(tmpdir(), 'drover-charts-'));
        const into = await mkdtemp(join(await this.#base, 'c-'));
        this.pulls += 1;
        return pull(into);
      })();
      this.#entries.set(key, p);
    }
    return p;
  }

  async dispose(): Promise<void> {
    const base = this.#base;
    this.#base = undefined;
    this.#entries.clear();
    if (base !== undefined) await rm(await base, { recursive: true, force: true });
  }
}
