// The fleet manager as the server runs it: its store in the data dir, the delivery loop over fleet
// tunnels, one git poller per gitrepo. server.ts builds it with the host's clusters and sessions
// and mounts fleet-api.ts; nothing here reaches into the server's own store or registry.
import { join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import type { Logger } from 'pino';
import { FleetStore, type GitRepoRow } from './fleet-store.ts';
import { FleetManager, type ApplyResult } from './fleet-manager.ts';
import { FleetSync, type FleetSession } from './fleet-sync.ts';
import { GitPoller, type PollResult } from './git-poller.ts';
import { toolsAt } from './tools.ts';
import type { ClusterInfo } from './targeting.ts';

export interface FleetServiceDeps {
  dataDir: string;
  log: Logger;
  now: () => number;
  clusters: () => Promise<ClusterInfo[]>;
  /** Fleet-role sessions that can open streams, newest per agent. */
  sessions: () => FleetSession[];
  /** DROVER_HELM / DROVER_KUSTOMIZE / DROVER_GIT, else from PATH. */
  tools?: { helm: string; kustomize: string; git: string } | undefined;
}

export class FleetService {
  readonly store: FleetStore;
  readonly manager: FleetManager;
  readonly sync: FleetSync;
  readonly #pollers = new Map<string, GitPoller>();
  readonly #deps: FleetServiceDeps;
  readonly #git: string;
  /** Last poll result per gitrepo (for `gitrepo list`). */
  readonly lastPoll = new Map<string, { commit?: string | undefined; error?: string | undefined; results: ApplyResult[] }>();

  constructor(deps: FleetServiceDeps) {
    this.#deps = deps;
    const tools = deps.tools ?? { helm: process.env.DROVER_HELM ?? 'helm', kustomize: process.env.DROVER_KUSTOMIZE ?? 'kustomize', git: process.env.DROVER_GIT ?? 'git' };
    this.#git = tools.git;
    this.store = new FleetStore(join(deps.dataDir, 'fleet.db'));
    const log = deps.log.child({ component: 'fleet' });
    let sync: FleetSync | undefined;
    this.manager = new FleetManager(this.store, { clusters: deps.clusters, online: () => sync?.online() ?? new Set(), now: deps.now, log, tools: toolsAt(tools) });
    sync = new FleetSync(this.manager, deps.sessions, deps.log);
    this.sync = sync;
    this.manager.onChange = () => sync.kick();
  }

  start(): void {
    this.sync.start();
    for (const g of this.store.gitRepos()) this.#startPoller(g);
  }

  async stop(): Promise<void> {
    this.sync.stop();
    await Promise.all([...this.#pollers.values()].map((p) => p.stop()));
    this.store.close();
  }

  addGitRepo(name: string, spec: GitRepoRow['spec']): void {
    this.store.putGitRepo(name, spec, this.#deps.now());
    void this.#pollers.get(name)?.stop();
    this.#pollers.delete(name);
    this.#startPoller({ name, spec, commit: null, error: null, polledAt: null });
  }

  async deleteGitRepo(name: string): Promise<boolean> {
    const p = this.#pollers.get(name);
    this.#pollers.delete(name);
    await p?.stop();
    const gone = this.store.deleteGitRepo(name);
    for (const b of this.store.bundles()) if (b.source === `git:${name}`) await this.manager.deleteBundle(b.name);
    rmSync(join(this.#deps.dataDir, 'fleet-git', name), { recursive: true, force: true });
    return gone;
  }

  /** The webhook: poll these gitrepos now. */
  pollNow(names: readonly string[]): void {
    for (const n of names) void this.#pollers.get(n)?.pollNow();
  }

  #startPoller(g: GitRepoRow): void {
    const workDir = join(this.#deps.dataDir, 'fleet-git', g.name);
    mkdirSync(workDir, { recursive: true });
    const poller = new GitPoller({
      name: g.name, repo: g.spec.repo, branch: g.spec.branch, revision: g.spec.revision, paths: g.spec.paths,
      workDir, intervalMs: g.spec.pollIntervalSeconds * 1000, git: this.#git, log: this.#deps.log.child({ gitrepo: g.name }),
      onPoll: (r) => void this.#onPoll(g.name, r),
    });
    this.#pollers.set(g.name, poller);
    poller.start();
  }

  async #onPoll(name: string, r: PollResult): Promise<void> {
    const now = this.#deps.now();
    if (r.error) {
      this.store.gitRepoPolled(name, null, `${r.error.code}: ${r.error.message}`, now);
      this.lastPoll.set(name, { error: r.error.message, results: this.lastPoll.get(name)?.results ?? [] });
      return;
    }
    this.store.gitRepoPolled(name, r.commit ?? null, null, now);
    if (!r.changed && this.lastPoll.has(name)) return;
    try {
      const results = await this.manager.applyDiscovered(`git:${name}`, r.bundles, r.failed);
      this.lastPoll.set(name, { commit: r.commit, results });
    } catch (err) {
      this.store.gitRepoPolled(name, null, (err as Error).message, now);
    }
  }
}
