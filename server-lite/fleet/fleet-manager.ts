// The fleet manager: turns sources (a pushed directory, a gitrepo checkout) into stored bundles,
// assigns revisions to clusters through the rollout planner, and answers `bundle list/status`.
// Delivery to agents is fleet-sync.ts's. Clusters, connectivity and time come from the host, so
// this file knows nothing of the server's store or sessions (server-lite imports only protocol/).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { extractSource } from './source-archive.ts';
import { renderDiscovered, renderSource, type BundleOutcome } from './render-source.ts';
import type { DiscoveredBundle } from './discovery.ts';
import type { ClusterGroup, ClusterInfo, TargetCriteria } from './targeting.ts';
import type { HelmSourceAccess, RenderTools } from './tools.ts';
import type { RolloutPlan } from './rollout.ts';
import { nextAssignments, type CurrentAssignment } from './deployments.ts';
import { byCluster, deploymentState, observationOf, summarise, worstState, type BundleStatus, type ClusterFleetStatus, type DeploymentState } from './deployment-state.ts';
import { FleetError } from './errors.ts';
import type { FleetStore, BundleRow, BundleSpec, DeploymentRow, StatusEventRow, TargetRow } from './fleet-store.ts';
import type { FleetYaml } from './fleet-yaml.ts';
import { canonicalJson, sha256 } from './manifest-set.ts';

export interface FleetHost {
  clusters(): Promise<ClusterInfo[]>;
  /** Changes whenever clusters() would (store.clustersVersion); lets fingerprint() skip the work. */
  clustersVersion?: (() => number | undefined) | undefined;
  /** Clusters whose fleet agent holds a tunnel now. */
  online(): ReadonlySet<string>;
  now(): number;
  log: Logger;
  tools: RenderTools;
}

export interface ApplyResult {
  name: string;
  ok: boolean;
  revision?: string | undefined;
  clusters?: string[] | undefined;
  error?: { code: string; message: string } | undefined;
  /** Added: fleet.yaml keys Drover ignored, targets that match no cluster. */
  warnings?: string[] | undefined;
}

const outcomeName = (o: BundleOutcome): string => (o.ok ? o.result.name : o.name);

const short = (r: string | null | undefined): string => (r ? r.slice(0, 12) : 'none');

function specOf(y: FleetYaml, warnings: readonly string[]): BundleSpec {
  return {
    keepResources: y.keepResources,
    correctDrift: y.correctDrift?.enabled,
    comparePatches: y.diff?.comparePatches,
    dependsOn: y.dependsOn?.filter((d) => d.name !== undefined || d.selector !== undefined).map((d) => ({ name: d.name, selector: d.selector, acceptedStates: d.acceptedStates })),
    labels: y.labels,
    defaultNamespace: y.defaultNamespace ?? y.namespace,
    paused: y.paused,
    rolloutStrategy: y.rolloutStrategy,
    ...(y.helm?.takeOwnership === true ? { takeOwnership: true } : {}),
    ...(warnings.length > 0 ? { warnings: [...warnings] } : {}),
  };
}

/** One bundle's next rollout step from the shared rows (pure: the same on every replica). */
function planBundle(b: BundleRow, revision: string, deployments: readonly DeploymentRow[], targets: readonly TargetRow[], known: ReadonlyMap<string, ClusterInfo>, online: ReadonlySet<string>, groups: readonly ClusterGroup[]): ReturnType<typeof nextAssignments> {
  const current = new Map<string, CurrentAssignment>();
  for (const d of deployments) {
    if (d.desiredRevision === null) continue;
    current.set(d.clusterId, { desiredRevision: d.desiredRevision, ready: d.state === 'Ready' && d.reportedRevision === d.desiredRevision });
  }
  return nextAssignments({ revision, targets, clusters: known, online, current, strategy: b.spec.rolloutStrategy, paused: b.spec.paused, groups });
}

export class FleetManager {
  readonly store: FleetStore;
  readonly #host: FleetHost;
  /** Each bundle's latest rollout plan and the cluster names last seen: what `status()` explains. */
  readonly #plans = new Map<string, RolloutPlan>();
  #names = new Map<string, string>();
  /** Called after anything that may change what an agent should hold. */
  onChange: () => void = () => {};
  /**
   * Whether this process advances rollouts (writes assignments). HA (issue 17, decision 1101): only
   * the replica holding the fleet-scheduling lease does; the others store bundles and statuses, and
   * the holder plans when it sees the shared generation or status counters move.
   */
  scheduling = true;
  /** The store generation and status version the last plan saw (FleetSync plans again when they move). */
  planned = { generation: -1, statusVersion: -1 };

  constructor(store: FleetStore, host: FleetHost) {
    this.store = store;
    this.#host = host;
  }

  /** Stores every outcome: good bundles get their new revision, bad ones an error (old revision kept). */
  async #store(outcomes: readonly BundleOutcome[], source: string): Promise<ApplyResult[]> {
    const now = this.#host.now();
    const out: ApplyResult[] = [];
    for (const o of outcomes) out.push(await (async (): Promise<ApplyResult> => {
      if (!o.ok) {
        await this.store.putBundleError(o.name, source, { code: o.error.code, message: o.error.message }, now);
        this.#host.log.warn({ bundle: o.name, code: o.error.code, err: o.error.message }, 'bundle not rendered; earlier revision kept');
        return { name: o.name, ok: false, error: { code: o.error.code, message: o.error.message } };
      }
      const r = o.result;
      await this.store.putBundle(r.name, source, r.revision, specOf(r.bundle.fleetYaml, r.warnings), r.targets.map((t) => ({ clusterId: t.clusterId, set: t.set })), now);
      this.#host.log.info({ bundle: r.name, revision: r.revision, clusters: r.targets.length, warnings: r.warnings.length }, 'bundle stored');
      return { name: r.name, ok: true, revision: r.revision, clusters: r.targets.map((t) => t.clusterId), ...(r.warnings.length > 0 ? { warnings: r.warnings } : {}) };
    })());
    await this.plan();
    this.onChange();
    return out;
  }

  /**
   * What targeting depends on besides the source: clusters (ids, names, labels) and cluster groups.
   * When it changes, bundles are rendered again (`retargetPushes`, and a forced gitrepo poll).
   */
  async fingerprint(): Promise<string> {
    // Checked every few seconds (retarget): with 20k clusters, listing, sorting and hashing them
    // each time was the largest cost of an idle server. Reused while neither input changed.
    const version = this.#host.clustersVersion?.();
    const groups = await this.store.groups();
    const groupsJson = canonicalJson(groups);
    const memo = this.#fingerprintMemo;
    if (version !== undefined && memo?.version === version && memo.groupsJson === groupsJson) return memo.value;
    const clusters = (await this.#host.clusters()).map((c) => [c.id, c.name, c.labels] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const value = sha256(canonicalJson({ clusters, groups }));
    if (version !== undefined) this.#fingerprintMemo = { version, groupsJson, value };
    return value;
  }

  #fingerprintMemo: { version: number; groupsJson: string; value: string } | undefined;

  /** `drover bundle apply`: the CLI's tar.gz of a directory, kept so it can be rendered again. */
  async applyArchive(archive: Uint8Array, opts: { name: string; namespace?: string | undefined; targets?: TargetCriteria[] | undefined; strict?: boolean | undefined }): Promise<ApplyResult[]> {
    const fingerprint = await this.fingerprint();
    const rendered = await this.#renderArchive(archive, opts);
    const outcomes: BundleOutcome[] = [];
    for (const o of rendered) outcomes.push(await (async (): Promise<BundleOutcome> => {
      // `bundle apply --target` that now matches no cluster on a bundle that is deployed somewhere
      // is most likely a typo: refuse it instead of removing the bundle everywhere (bundle delete
      // does that on purpose). A relabelled cluster leaving the targets later still takes it off.
      if (!o.ok || o.result.targets.length > 0 || !opts.targets?.length) return o;
      const deployed = (await this.store.deployments({ bundle: o.result.name })).filter((d) => d.desiredRevision !== null).length;
      if (deployed === 0) return o;
      const error = new FleetError('TARGET_NO_MATCH', `bundle ${o.result.name}: no --target matches a cluster (${o.result.warnings.join('; ')}); it stays on its ${deployed} cluster(s). To remove it, \`drover bundle delete ${o.result.name}\``, { bundle: o.result.name });
      return { ok: false, name: o.result.name, path: o.result.path, error };
    })());
    await this.store.putPush(opts.name, { namespace: opts.namespace, targets: opts.targets, ...(opts.strict ? { strict: true } : {}) }, archive, outcomes.map(outcomeName), fingerprint, this.#host.now());
    return this.#store(outcomes, 'push');
  }

  async #renderArchive(archive: Uint8Array, opts: { name: string; namespace?: string | undefined; targets?: TargetCriteria[] | undefined; strict?: boolean | undefined }): Promise<BundleOutcome[]> {
    const dir = await mkdtemp(join(tmpdir(), 'drover-bundle-'));
    try {
      await extractSource(archive, dir);
      return await renderSource({
        root: dir, prefix: opts.name, clusters: await this.#host.clusters(), groups: await this.store.groups(),
        targets: opts.targets, defaultNamespace: opts.namespace, strict: opts.strict, tools: this.#host.tools,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Renders pushed bundles again whose targeting inputs changed since they were rendered: a new
   * cluster, new labels, a new or changed cluster group. A bundle that now fails (its target
   * matches nothing any more) keeps its last good revision and shows the error.
   */
  async retargetPushes(fingerprint: string): Promise<string[]> {
    const done: string[] = [];
    for (const p of await this.store.pushes()) {
      if (p.fingerprint === fingerprint) continue;
      try {
        const rendered = await this.#renderArchive(await this.store.pushArchive(p.name), { name: p.name, ...p.opts });
        // While it rendered, `bundle apply` may have pushed a newer archive or `bundle delete`
        // removed one of its bundles: only what the push still owns, from the same archive, is stored.
        const now = await this.store.push(p.name);
        if (!now || now.archive !== p.archive) continue;
        const sources = new Map((await this.store.bundles()).map((b) => [b.name, b.source]));
        const outcomes = rendered.filter((o) => now.bundles.includes(outcomeName(o)) && (sources.get(outcomeName(o)) ?? 'push') === 'push');
        await this.#store(outcomes, 'push');
        await this.store.pushRendered(p.name, fingerprint, this.#host.now());
        this.#host.log.info({ push: p.name, bundles: outcomes.map(outcomeName) }, 'pushed bundles rendered again: clusters or groups changed');
        done.push(p.name);
      } catch (err) {
        // One push that cannot be rendered (a full disk, a broken archive) does not hold up the others.
        this.#host.log.warn({ push: p.name, err: (err as Error).message }, 'pushed bundles not rendered again; retrying on the next change');
        await this.store.pushRendered(p.name, fingerprint, this.#host.now());
      }
    }
    return done;
  }

  /** A gitrepo poll found these bundles (the checkout stays in place while rendering). */
  async applyDiscovered(source: string, bundles: readonly DiscoveredBundle[], failed: readonly { name: string; path: string; error: FleetError }[], targets?: readonly TargetCriteria[], helm?: HelmSourceAccess): Promise<ApplyResult[]> {
    const t = this.#host.tools;
    const tools: RenderTools = helm ? { helm: () => t.helm(), kustomize: () => t.kustomize(), helmSource: helm } : t;
    const outcomes = await renderDiscovered({ bundles, clusters: await this.#host.clusters(), groups: await this.store.groups(), targets, tools });
    const results = await this.#store([...failed.map((f) => ({ ok: false as const, ...f })), ...outcomes], source);
    // Bundles the repository no longer has are removed (their objects pruned unless keepResources).
    const present = new Set(results.map((r) => r.name));
    for (const b of await this.store.bundles()) if (b.source === source && !present.has(b.name)) await this.deleteBundle(b.name);
    return results;
  }

  async deleteBundle(name: string): Promise<boolean> {
    const gone = await this.store.deleteBundle(name);
    await this.store.releasePushed(name);
    if (gone) {
      await this.plan();
      this.onChange();
    }
    return gone;
  }

  /**
   * Runs the rollout planner for every bundle and records the assignments. Deployments whose
   * cluster is no longer targeted get no desired revision: fleet-sync removes them from the agent.
   */
  async plan(): Promise<void> {
    if (!this.scheduling) return;
    const known = new Map((await this.#host.clusters()).map((c) => [c.id, c]));
    this.#names = new Map([...known.values()].map((c) => [c.id, c.name]));
    const now = this.#host.now();
    const online = this.#host.online();
    // What the plan reads is read first; its writes are one transaction (10,000 clusters: one commit).
    const seen = { generation: this.store.generation, statusVersion: this.store.statusVersion };
    const [targets, groups, bundles, deployments] = await Promise.all([this.store.targets(), this.store.groups(), this.store.bundles(), this.store.deployments()]);
    const assign: { bundle: string; clusterId: string; revision: string }[] = [];
    const unassign: { bundle: string; clusterId: string }[] = [];
    const byBundle = new Map<string, typeof deployments>();
    for (const d of deployments) {
      const list = byBundle.get(d.bundle);
      if (list) list.push(d);
      else byBundle.set(d.bundle, [d]);
    }
    const targetsOf = new Map<string, typeof targets>();
    for (const t of targets) {
      const list = targetsOf.get(t.bundle);
      if (list) list.push(t);
      else targetsOf.set(t.bundle, [t]);
    }
    for (const b of bundles) {
      if (b.revision === null) continue;
      const update = planBundle(b, b.revision, byBundle.get(b.name) ?? [], targetsOf.get(b.name) ?? [], known, online, groups);
      this.#plans.set(b.name, update.plan);
      for (const a of update.assign) assign.push({ bundle: b.name, clusterId: a.clusterId, revision: a.revision });
      for (const id of update.unassign) unassign.push({ bundle: b.name, clusterId: id });
    }
    const live = new Set(bundles.map((b) => b.name));
    for (const name of this.#plans.keys()) if (!live.has(name)) this.#plans.delete(name);
    for (const d of deployments) if (!live.has(d.bundle) && d.desiredRevision !== null) unassign.push({ bundle: d.bundle, clusterId: d.clusterId });
    const before = this.store.generation;
    await this.store.applyPlan(assign, unassign, now);
    // Our own writes do not call for another plan; anyone else's (in between) does.
    const after = this.store.generation;
    this.planned = { generation: after === before + 1 && before === seen.generation ? after : seen.generation, statusVersion: seen.statusVersion };
  }

  /** `drover bundle status NAME --json` (ARCHITECTURE.md §3). */
  async status(name: string, known?: BundleRow): Promise<BundleStatus | undefined> {
    const b = known ?? (await this.store.bundle(name));
    if (!b) return undefined;
    const online = this.#host.online();
    const [targets, deployments] = await Promise.all([this.store.targets(name), this.store.deployments({ bundle: name })]);
    const targetOf = new Map(targets.map((t) => [t.clusterId, t.revision]));
    const targeted = new Set(targetOf.keys());
    const clusters: BundleStatus['clusters'] = deployments.filter((d) => targeted.has(d.clusterId)).map((d) => ({ id: d.clusterId, ...deploymentState(observationOf(d, online.has(d.clusterId))), revision: d.desiredRevision ?? undefined, appliedRevision: d.appliedRevision ?? undefined }));
    for (const id of targeted) if (!clusters.some((c) => c.id === id)) clusters.push({ id, ...(online.has(id) ? { state: 'Pending' as const, message: 'waiting for its turn in the rollout' } : { state: 'Offline' as const, message: 'fleet agent not connected; nothing delivered yet' }) });
    clusters.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let plan = this.#plans.get(name);
    let names = this.#names;
    if (!this.scheduling) {
      // HA: another replica schedules rollouts; the same pure planner over the shared rows says
      // here what that replica decides (read only: nothing is assigned from this replica).
      const [known, groups] = await Promise.all([this.#host.clusters(), this.store.groups()]);
      names = new Map(known.map((c) => [c.id, c.name]));
      plan = b.revision === null ? undefined : planBundle(b, b.revision, deployments, targets, new Map(known.map((c) => [c.id, c])), online, groups).plan;
    }
    const waiting = new Map((plan?.waiting ?? []).map((w) => [w.clusterId, w]));
    for (const c of clusters) {
      const clusterName = names.get(c.id);
      if (clusterName !== undefined) c.name = clusterName;
      const w = waiting.get(c.id);
      if (!w || c.state === 'Offline' || (c.revision !== undefined && c.revision === targetOf.get(c.id))) continue;
      // Held back by the rollout at its previous revision: not Ready for this bundle revision (as
      // Fleet shows a staged but undeployed revision), and the message says what it waits for.
      c.rollout = { partition: w.partition, reason: w.reason, ...(w.blockedBy ? { blockedBy: w.blockedBy } : {}) };
      const why = w.reason === 'paused' ? 'the bundle is paused'
        : w.reason === 'partition-gate' ? `rollout waits for partition ${(w.blockedBy ?? []).map((p) => `"${p}"`).join(', ') || 'before it'} to be Ready`
          : `rollout waits for maxUnavailable room in partition "${w.partition}"`;
      const held = c.revision === undefined ? `not deployed yet: ${why}` : `at revision ${short(c.revision)}, not yet ${short(targetOf.get(c.id))}: ${why}`;
      if (c.state === 'Ready' || c.state === 'Pending') {
        if (c.state === 'Ready') c.state = 'OutOfSync';
        c.message = held;
      } else {
        c.message = `${held}; ${c.message}`;
      }
    }
    const status: BundleStatus = { name, revision: b.revision ?? '', summary: summarise(clusters.map((c) => c.state)), clusters };
    if (b.error) status.error = b.error;
    if (b.spec.warnings && b.spec.warnings.length > 0) status.warnings = b.spec.warnings;
    return status;
  }

  /**
   * What the agents reported about a bundle, oldest first (the newest `limit`); `cluster` is an id
   * or a name. Undefined when there is no such bundle.
   */
  async events(name: string, opts: { cluster?: string | undefined; limit: number }): Promise<StatusEventRow[] | undefined> {
    if (!(await this.store.bundle(name))) return undefined;
    let clusterId: string | undefined;
    if (opts.cluster !== undefined) {
      const c = (await this.#host.clusters()).find((x) => x.id === opts.cluster || x.name === opts.cluster);
      if (!c) throw new FleetError('CLUSTER_NOT_FOUND', `no registered cluster has the id or name "${opts.cluster}"`);
      clusterId = c.id;
    }
    return this.store.statusEvents(name, { clusterId, limit: opts.limit });
  }

  /** Every cluster some bundle targets, with its bundles' states (the same as `status()` shows). */
  async clusters(): Promise<Map<string, ClusterFleetStatus>> {
    const all = await Promise.all((await this.store.bundles()).map((b) => this.status(b.name, b)));
    return byCluster(all.filter((s) => s !== undefined));
  }

  /** One registered cluster (by id or name) with its bundles; an untargeted cluster has none. */
  async cluster(idOrName: string): Promise<ClusterFleetStatus> {
    const c = (await this.#host.clusters()).find((x) => x.id === idOrName || x.name === idOrName);
    if (!c) throw new FleetError('CLUSTER_NOT_FOUND', `no registered cluster has the id or name "${idOrName}"`);
    return (await this.clusters()).get(c.id) ?? { id: c.id, state: 'Ready', summary: summarise([]), bundles: [] };
  }

  async list(): Promise<{ name: string; revision: string; state: DeploymentState; clusters: number; ready: number; error?: { code: string; message: string } | undefined; warnings?: number }[]> {
    const bundles = await this.store.bundles();
    const statuses = await Promise.all(bundles.map((b) => this.status(b.name, b)));
    return bundles.map((b, i) => {
      const s = statuses[i];
      const states = s?.clusters.map((c) => c.state) ?? [];
      // Nothing shows Ready that never rendered, nor a bundle that targets no cluster.
      const state = b.revision === null ? 'ErrApplied' : states.length === 0 ? 'Pending' : worstState(states);
      const warnings = b.spec.warnings?.length ?? 0;
      return { name: b.name, revision: b.revision ?? '', state, clusters: states.length, ready: s?.summary.ready ?? 0, ...(b.error ? { error: b.error } : {}), ...(warnings > 0 ? { warnings } : {}) };
    });
  }
}
