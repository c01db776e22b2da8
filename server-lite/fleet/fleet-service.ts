// The fleet manager as the server runs it: its store in the data dir, the delivery loop over fleet
// tunnels, one git poller per gitrepo. server.ts builds it with the host's clusters and sessions
// and mounts fleet-api.ts; nothing here reaches into the server's own store or registry.
import { join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import type { Logger } from 'pino';
import type { FleetStore, GitRepoRow } from './fleet-store.ts';
import { SqliteFleetStore } from './sqlite-fleet-store.ts';
import { FleetManager, type ApplyResult } from './fleet-manager.ts';
import { FleetSync, type FleetSession } from './fleet-sync.ts';
import { GitPoller, type PollResult } from './git-poller.ts';
import { toolsAt } from './tools.ts';
import { FLEET_LIMITS } from './limits.ts';
import { retargetDecision, type RetargetState } from './retarget-debounce.ts';
import { parseTarget } from './target-spec.ts';
import type { ClusterInfo } from './targeting.ts';
import { gitCredentials, type SecretLookup } from './source-secrets.ts';
import { helmAccessFor } from './helm-access.ts';
import { ChartCache } from './chart-cache.ts';

/** Render failures caused outside the git commit: retried at every poll. */
const RETRY_RENDER_CODES: ReadonlySet<string> = new Set(['HELM_REPO_AUTH_FAILED', 'HELM_CHART_NOT_FOUND', 'GIT_CREDENTIALS_MISSING']);

export interface FleetServiceDeps {
  dataDir: string;
  log: Logger;
  now: () => number;
  clusters: () => Promise<ClusterInfo[]>;
  /** Changes whenever clusters() would; optional (fingerprints are then recomputed every check). */
  clustersVersion?: (() => number | undefined) | undefined;
  /** Fleet-role sessions that can open streams, newest per agent. */
  sessions: () => FleetSession[];
  /** DROVER_HELM / DROVER_KUSTOMIZE / DROVER_GIT, else from PATH. */
  tools?: { helm: string; kustomize: string; git: string } | undefined;
  /** Source secrets by name (issue 19): read at every poll and render, so rotation needs no restart. */
  secrets?: SecretLookup | undefined;
  /** The fleet's store when it is not fleet.db in the data dir (PostgreSQL, shared by HA replicas). */
  store?: FleetStore | undefined;
}

export class FleetService {
  readonly store: FleetStore;
  readonly manager: FleetManager;
  readonly sync: FleetSync;
  readonly #pollers = new Map<string, GitPoller>();
  readonly #deps: FleetServiceDeps;
  readonly #git: string;
  /** Last poll result per gitrepo (for `gitrepo list`), with the targeting fingerprint it was rendered for. */
  /** The chart version each bundle's `helm.version` resolved to at its last render (issue 19). */
  readonly charts = new Map<string, { chart: string; version: string }>();
  readonly lastPoll = new Map<string, { commit?: string | undefined; error?: string | undefined; results: ApplyResult[]; fingerprint?: string | undefined }>();
  #retargetTimer: NodeJS.Timeout | undefined;
  #gcTimer: NodeJS.Timeout | undefined;
  #retargeting: Promise<void> | undefined;
  #retargetState: RetargetState = { rendered: undefined, lastSeen: undefined, pendingSince: undefined };
  /** HA (issue 17): git polling is a singleton; replicas without its lease keep their pollers stopped. */
  #pollingPaused = false;

  constructor(deps: FleetServiceDeps) {
    this.#deps = deps;
    const tools = deps.tools ?? { helm: process.env.DROVER_HELM ?? 'helm', kustomize: process.env.DROVER_KUSTOMIZE ?? 'kustomize', git: process.env.DROVER_GIT ?? 'git' };
    this.#git = tools.git;
    this.store = deps.store ?? new SqliteFleetStore(join(deps.dataDir, 'fleet.db'));
    const log = deps.log.child({ component: 'fleet' });
    let sync: FleetSync | undefined;
    this.manager = new FleetManager(this.store, { clusters: deps.clusters, clustersVersion: deps.clustersVersion, online: () => sync?.online() ?? new Set(), now: deps.now, log, tools: toolsAt(tools) });
    sync = new FleetSync(this.manager, deps.sessions, deps.log);
    this.sync = sync;
    this.manager.onChange = () => sync.kick();
  }

  start(): void {
    // Credential files of a fetch the server died in the middle of (source-secrets.ts).
    rmSync(this.#credentialScratch(), { recursive: true, force: true });
    this.sync.start();
    void this.reconcilePollers();
    this.#retargetTimer = setInterval(() => {
      void this.retarget();
      void this.reconcilePollers();
    }, FLEET_LIMITS.retargetIntervalMs);
    this.#retargetTimer.unref();
    this.#gcTimer = setInterval(() => this.collectGarbage(), FLEET_LIMITS.gcIntervalMs);
    this.#gcTimer.unref();
  }

  /** Old manifest sets and unused blobs out of fleet.db (see FleetStore.collectGarbage). */
  async collectGarbage(): Promise<void> {
    // HA: global work, done by the replica that schedules rollouts.
    if (!this.manager.scheduling) return;
    try {
      const r = await this.store.collectGarbage();
      if (r.sets > 0 || r.blobs > 0) this.#deps.log.info(r, 'fleet: dropped manifest sets and blobs nothing refers to');
    } catch (err) {
      this.#deps.log.warn({ err: (err as Error).message }, 'fleet garbage collection failed; retrying later');
    }
  }

  /**
   * Clusters, their labels or cluster groups changed since bundles were rendered: render them
   * again (pushed ones from their stored archive, gitrepos by a forced poll of their checkout), so
   * a cluster registered or relabelled after the last commit gets what now targets it.
   */
  retarget(force = false): Promise<void> {
    this.#retargeting ??= (async () => {
      try {
        // HA: rendering again is global work, done by the replica that schedules rollouts.
        if (!this.manager.scheduling) return;
        const fp = await this.manager.fingerprint();
        // A burst of registrations is one re-render once it settles (or every 30 s while it lasts);
        // a cluster group change (force) is rendered at once.
        const d = retargetDecision(this.#retargetState, fp, this.#deps.now(), FLEET_LIMITS.retargetMaxDelayMs);
        this.#retargetState = force ? { rendered: fp, lastSeen: fp, pendingSince: undefined } : d.next;
        if (!d.retarget && !force) return;
        await this.manager.retargetPushes(fp);
        for (const g of await this.store.gitRepos()) {
          const last = this.lastPoll.get(g.name);
          if (last?.commit !== undefined && last.fingerprint !== fp && !this.#pollingPaused) void this.#pollers.get(g.name)?.pollNow();
        }
      } catch (err) {
        this.#deps.log.warn({ err: (err as Error).message }, 'fleet retarget failed; retrying next cycle');
      } finally {
        this.#retargeting = undefined;
      }
    })();
    return this.#retargeting;
  }

  /**
   * A cluster was deleted (its rows in the server store are gone already): its fleet rows go too,
   * in the fleet's own database (decision 0751), and bundles are targeted again without it.
   */
  async forgetCluster(clusterId: string, agentIds: readonly string[]): Promise<void> {
    await this.store.forgetCluster(clusterId, agentIds);
    void this.retarget(true);
  }

  async stop(): Promise<void> {
    clearInterval(this.#retargetTimer);
    clearInterval(this.#gcTimer);
    await this.#retargeting;
    this.sync.stop();
    await this.#reconciling;
    await Promise.all([...this.#pollers.values()].map((p) => p.stop()));
    await this.store.close();
  }

  async addGitRepo(name: string, spec: GitRepoRow['spec']): Promise<void> {
    await this.#reconciling;
    await this.store.putGitRepo(name, spec, this.#deps.now());
    // The old poller must be gone before a new one runs git in the same working directory.
    await this.#pollers.get(name)?.stop();
    this.#pollers.delete(name);
    this.lastPoll.delete(name);
    this.#startPoller({ name, spec, commit: null, error: null, polledAt: null });
  }

  async deleteGitRepo(name: string): Promise<boolean> {
    const p = this.#pollers.get(name);
    this.#pollers.delete(name);
    await p?.stop();
    const gone = await this.store.deleteGitRepo(name);
    for (const b of await this.store.bundles()) if (b.source === `git:${name}`) await this.manager.deleteBundle(b.name);
    rmSync(join(this.#deps.dataDir, 'fleet-git', name), { recursive: true, force: true });
    return gone;
  }

  /** A source secret was stored or replaced: gitrepos that use it poll now (no waiting out a backoff). */
  async secretChanged(secret: string): Promise<void> {
    const names = (await this.store.gitRepos()).filter((g) => g.spec.clientSecretName === secret || g.spec.helmSecretName === secret).map((g) => g.name);
    // Forgetting the last poll makes the next one render again at the same commit (new chart credentials).
    for (const n of names) {
      const last = this.lastPoll.get(n);
      if (last) this.lastPoll.set(n, { ...last, commit: undefined });
    }
    this.pollNow(names);
  }

  /**
   * HA (issue 17, decision 1101): whether this replica schedules rollouts (plans assignments,
   * renders bundles again for changed clusters, collects garbage). The replica holding the
   * `fleet-scheduling` lease does; every replica delivers to its own agents and stores their statuses.
   */
  setScheduling(on: boolean): void {
    this.manager.scheduling = on;
    // The new holder plans at its next cycle (planned counters reset) and renders what changed.
    if (on) {
      this.manager.planned = { generation: -1, statusVersion: -1 };
      this.sync.kick();
      void this.retarget();
    }
  }

  get scheduling(): boolean {
    return this.manager.scheduling;
  }

  #reconciling: Promise<void> | undefined;

  /**
   * Pollers follow the gitrepos in the store: with replicas sharing it, a gitrepo added or deleted
   * through another replica gets (or loses) its poller here within a retarget interval.
   */
  reconcilePollers(): Promise<void> {
    this.#reconciling ??= (async () => {
      try {
        const repos = await this.store.gitRepos();
        const want = new Map(repos.map((g) => [g.name, g]));
        for (const [name, p] of [...this.#pollers]) {
          const g = want.get(name);
          if (g && JSON.stringify(g.spec) === this.#pollerSpecs.get(name)) continue;
          this.#pollers.delete(name);
          this.lastPoll.delete(name);
          await p.stop();
        }
        for (const g of repos) if (!this.#pollers.has(g.name)) this.#startPoller(g);
      } catch (err) {
        this.#deps.log.warn({ err: (err as Error).message }, 'fleet: reading gitrepos failed; retrying');
      } finally {
        this.#reconciling = undefined;
      }
    })();
    return this.#reconciling;
  }

  /** The spec each poller runs with (JSON), to notice a gitrepo replaced through another replica. */
  readonly #pollerSpecs = new Map<string, string>();

  /** HA (issue 17): run or pause every git poller (the replica holding the `git-polling` lease runs them). */
  async setPolling(on: boolean): Promise<void> {
    this.#pollingPaused = !on;
    if (on) for (const p of this.#pollers.values()) p.start();
    else await Promise.all([...this.#pollers.values()].map((p) => p.stop()));
  }

  /** Whether this replica's git pollers run (HA: only on the lease holder). */
  get polling(): boolean {
    return !this.#pollingPaused;
  }

  /** The webhook: poll these gitrepos now. */
  pollNow(names: readonly string[]): void {
    // A replica without the git-polling lease leaves it to the holder (its interval is the safety net).
    if (this.#pollingPaused) return;
    for (const n of names) void this.#pollers.get(n)?.pollNow();
  }

  #credentialScratch(): string {
    return join(this.#deps.dataDir, 'fleet-git', '.credentials');
  }

  #startPoller(g: GitRepoRow): void {
    const workDir = join(this.#deps.dataDir, 'fleet-git', g.name);
    mkdirSync(workDir, { recursive: true });
    const secrets: SecretLookup = this.#deps.secrets ?? { get: () => undefined };
    const scratch = this.#credentialScratch();
    const poller = new GitPoller({
      name: g.name, repo: g.spec.repo, branch: g.spec.branch, revision: g.spec.revision, paths: g.spec.paths,
      workDir, intervalMs: g.spec.pollIntervalSeconds * 1000, git: this.#git, log: this.#deps.log.child({ gitrepo: g.name }),
      onPoll: (r) => void this.#onPoll(g.name, r).catch((err: unknown) => this.#deps.log.warn({ err: (err as Error).message, gitrepo: g.name }, 'storing a git poll failed; the next poll tries again')),
      credentials: async () => {
        mkdirSync(scratch, { recursive: true, mode: 0o700 });
        return gitCredentials(g.spec.repo, g.spec, secrets, scratch, g.name);
      },
    });
    this.#pollers.set(g.name, poller);
    this.#pollerSpecs.set(g.name, JSON.stringify(g.spec));
    if (!this.#pollingPaused) poller.start();
  }

  async #onPoll(name: string, r: PollResult): Promise<void> {
    const now = this.#deps.now();
    if (r.error) {
      // The commit fetched (if git got that far) is shown next to the error it caused.
      await this.store.gitRepoPolled(name, r.commit ?? null, `${r.error.code}: ${r.error.message}`, now);
      // The gitrepo's bundles show the same error (issue 19), their last good revision applied;
      // the next good poll renders them again, which clears it.
      for (const b of await this.store.bundles()) {
        if (b.source === `git:${name}` && b.revision !== null) await this.store.putBundleError(b.name, b.source, { code: r.error.code, message: r.error.message }, now);
      }
      const last = this.lastPoll.get(name);
      this.lastPoll.set(name, { error: r.error.message, results: last?.results ?? [], fingerprint: last?.fingerprint });
      return;
    }
    await this.store.gitRepoPolled(name, r.commit ?? null, null, now);
    // Before rendering: clusters that change while it renders trigger one more.
    const fingerprint = await this.manager.fingerprint();
    const last = this.lastPoll.get(name);
    // A bundle whose chart could not be pulled (credentials, a version not yet published) is
    // rendered again at the next poll even at the same commit: the fix is not in git (issue 19).
    const retry = last?.results.some((x) => !x.ok && x.error !== undefined && RETRY_RENDER_CODES.has(x.error.code)) === true;
    if (!r.changed && last?.commit === r.commit && last?.fingerprint === fingerprint && !retry) return;
    try {
      const spec = (await this.store.gitRepos()).find((g) => g.name === name)?.spec;
      const targets = spec?.targets?.map(parseTarget);
      // One chart pull per bundle and poll, shared by all its targets; removed after the render.
      const cache = new ChartCache();
      const access = spec ? helmAccessFor(name, spec, this.#deps.secrets ?? { get: () => undefined }, this.charts, cache) : undefined;
      const results = await this.manager.applyDiscovered(`git:${name}`, r.bundles, r.failed, targets && targets.length > 0 ? targets : undefined, access).finally(() => cache.dispose());
      this.lastPoll.set(name, { commit: r.commit, results, fingerprint });
    } catch (err) {
      // Forget the last poll so the next one renders this commit again instead of skipping it.
      this.lastPoll.delete(name);
      await this.store.gitRepoPolled(name, r.commit ?? null, (err as Error).message, now);
    }
  }
}
