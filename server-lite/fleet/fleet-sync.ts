// Delivery to fleet agents (decision 0750): for each connected fleet tunnel, the server opens
// streams to the agent's `http:drover-fleet` target. On a new session it asks for the resume point
// (what the agent holds durably), then sends only deployments whose revision or options differ (a
// fleet.yaml that only turns on correctDrift changes no manifest, hence no revision), removes the
// ones no longer targeted, and drains the agent's outbox in sequence order, storing statuses
// de-duplicated by (agent, seq) before acknowledging them. Bulk manifests ride streams, never
// control messages. Each cycle is cheap when nothing changed: no stream is opened.
import type { Logger } from 'pino';
import { describeTargetError, FLEET_PATHS, FLEET_TARGET, readTargetError, resumeAnswerSchema, type CapabilityName, type OutboxAck, type TunnelStream } from '../../protocol/index.ts';
import { agentCall, type AgentAnswer } from '../tunnel/agent-call.ts';
import { FLEET_SYNC_LIMITS } from './limits.ts';
import type { FleetManager } from './fleet-manager.ts';
import { canonicalJson, type ManifestSet } from './manifest-set.ts';
import { diffManifestSets } from './manifest-delta.ts';
import { GroupCommit } from './group-commit.ts';
import { backoffDelay } from './backoff.ts';
import { checkOutboxRows, type OutboxRow, type QuarantinedRow } from './outbox-rows.ts';

interface Ack { sessionId: string; bundle: string; clusterId: string; revision: string }
interface Drain { agentId: string; clusterId: string; rows: readonly OutboxRow[]; quarantined: readonly QuarantinedRow[] }
import type { BundleSpec } from './fleet-store.ts';
import { matchesSelector } from './label-selector.ts';

/**
 * The bundles a `dependsOn` entry names on one cluster: by name, or every other bundle on that
 * cluster whose labels match its selector (both: must match both). A selector that matches nothing
 * there stays a dependency on a deployment the agent does not hold, so it waits, as in Fleet.
 */
export function resolveDependsOn(
  self: string,
  dep: NonNullable<BundleSpec['dependsOn']>[number],
  onCluster: readonly { name: string; labels: Record<string, string> }[],
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
export function agentOptions(spec: BundleSpec, self = '', onCluster: readonly { name: string; labels: Record<string, string> }[] = []): Record<string, unknown> {
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

const heldKeyOf = (revision: string, optionsJson: string): string => `${revision}\n${optionsJson}`;

export { FLEET_TARGET };

export interface FleetSession {
  /** Unique per connection. */
  id: string;
  agentId: string;
  clusterId: string;
  openStream(target: string, metadata?: Record<string, string>): TunnelStream;
  /** Whether both HELLOs of the session listed the capability; deltas go only where FLEET_DELTA is
   *  common (decision 0981). Absent: no optional feature. */
  has?(cap: CapabilityName): boolean;
}


/** One request to the fleet agent over a fresh stream (tunnel/agent-call.ts). */
export function fleetRequest(session: FleetSession, method: string, path: string, body?: unknown): Promise<AgentAnswer> {
  return agentCall((t, m) => session.openStream(t, m), FLEET_TARGET, method, path, body, {
    timeoutMs: FLEET_SYNC_LIMITS.requestTimeoutMs,
    maxAnswerBytes: FLEET_SYNC_LIMITS.maxAnswerBytes,
  });
}

export class FleetSync {
  readonly #manager: FleetManager;
  readonly #sessions: () => FleetSession[];
  readonly #log: Logger;
  /** session id → what the agent holds (deploymentId → revision), learned at connect, kept current by our own pushes. */
  readonly #held = new Map<string, Map<string, string>>();
  readonly #busy = new Set<string>();
  /** Sessions whose last sync failed: retried with backoff, logged once per distinct failure (issue 14). */
  readonly #failing = new Map<string, { failures: number; until: number; message: string }>();
  /** `session/bundle/revision` the agent refused: not offered again on this session. */
  readonly #refused = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #online = new Set<string>();
  #statusesChanged = false;
  /** Recently sent manifest sets by revision: one change to 10k clusters reassembles its blobs once,
   *  not 10k times. Revisions are content addresses, so an entry is never stale. */
  readonly #sets = new Map<string, Promise<ManifestSet>>();
  /** session id → until when the outbox is drained every cycle, and when it was drained last. */
  readonly #hotUntil = new Map<string, number>();
  readonly #drainedAt = new Map<string, number>();
  /** Sessions whose agent signals queued statuses (resume `features` has `outbox-signal`). */
  readonly #signals = new Set<string>();
  /** Agents' statuses and delivery acknowledgements, each group-committed (decision 0754). */
  readonly #statuses: GroupCommit<Drain, number>;
  readonly #acks: GroupCommit<Ack, void>;
  /** session id → the store generation its last complete delivery saw. */
  readonly #seenGeneration = new Map<string, number>();
  /** Serialised PUT bodies by bundle, revision and options (the newest few). */
  readonly #bodies = new Map<string, Buffer>();
  /** bundle → its spec, and the options delivered with it with their canonical JSON: both depend only
   *  on the store, so they hold for one store generation (`#memoGeneration`) and are read once per
   *  bundle, not once per deployment and agent. */
  #options = new Map<string, { options: Record<string, unknown>; json: string }>();
  #specs = new Map<string, BundleSpec>();
  #memoGeneration = -1;
  /** bundle, key and base → the delta body, or null when a delta is not worth it. */
  readonly #deltas = new Map<string, Buffer | null>();

  #spec(bundle: string): BundleSpec {
    let spec = this.#specs.get(bundle);
    if (!spec) {
      spec = this.#manager.store.bundle(bundle)?.spec ?? {};
      this.#specs.set(bundle, spec);
    }
    return spec;
  }
  /** Deliveries sent as deltas, and bytes of PUT bodies sent (tests, bench, metrics). */
  deltaDeliveries = 0;
  deliveredBytes = 0;
  /** Deliveries completed (tests, bench). */
  deliveries = 0;

  constructor(manager: FleetManager, sessions: () => FleetSession[], log: Logger) {
    this.#manager = manager;
    const store = manager.store;
    this.#statuses = new GroupCommit(store.db, FLEET_SYNC_LIMITS.statusFlushMs, (d: Drain) => {
      const byseq = new Map(d.rows.map((x) => [x.seq, x]));
      return store.recordStatuses(d.agentId, d.clusterId, d.rows, (seq) => {
        const row = byseq.get(seq);
        return row && row.status.appliedRevision === row.status.revision ? row.createdAt ?? null : null;
      }, Date.now(), d.quarantined);
    });
    this.#acks = new GroupCommit(store.db, FLEET_SYNC_LIMITS.ackFlushMs, (a: Ack) => store.acked(a.bundle, a.clusterId, a.revision, Date.now()));
    this.#sessions = sessions;
    this.#log = log.child({ component: 'fleet' });
  }

  start(): void {
    this.#timer = setInterval(() => void this.syncAll(), FLEET_SYNC_LIMITS.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#acks.flush();
    this.#statuses.flush();
  }

  /** Clusters with a fleet tunnel now. */
  online(): ReadonlySet<string> {
    return new Set(this.#sessions().map((s) => s.clusterId));
  }

  /** The agent said statuses are queued: drain its outbox at the next cycle. */
  drainSoon(sessionId: string): void {
    this.#drainedAt.delete(sessionId);
  }

  kick(): void {
    setImmediate(() => void this.syncAll());
  }

  async syncAll(): Promise<void> {
    const sessions = this.#sessions();
    const live = new Set(sessions.map((s) => s.id));
    for (const id of this.#held.keys()) if (!live.has(id)) this.#held.delete(id);
    for (const m of [this.#hotUntil, this.#drainedAt, this.#seenGeneration, this.#failing]) for (const id of m.keys()) if (!live.has(id)) m.delete(id);
    for (const id of this.#signals) if (!live.has(id)) this.#signals.delete(id);
    for (const k of this.#refused) if (!live.has(k.slice(0, k.indexOf('/')))) this.#refused.delete(k);
    // A change in who is online can open rollout gates (an Offline cluster came back).
    const online = new Set(sessions.map((s) => s.clusterId));
    // New statuses can complete a partition or free maxUnavailable budget: plan again.
    if (this.#statusesChanged || online.size !== this.#online.size || [...online].some((c) => !this.#online.has(c))) {
      this.#statusesChanged = false;
      await this.#manager.plan();
    }
    this.#online = online;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < sessions.length) {
        const s = sessions[next++];
        if (s) await this.sync(s);
      }
    };
    await Promise.all(Array.from({ length: Math.min(FLEET_SYNC_LIMITS.concurrency, sessions.length) }, worker));
  }

  async sync(session: FleetSession): Promise<void> {
    if (this.#busy.has(session.id)) return;
    const failing = this.#failing.get(session.id);
    if (failing && Date.now() < failing.until) return;
    this.#busy.add(session.id);
    const log = this.#log.child({ clusterId: session.clusterId, agentId: session.agentId });
    try {
      const delivered = await this.#deliver(session, log);
      const now = Date.now();
      if (delivered) this.#hotUntil.set(session.id, now + FLEET_SYNC_LIMITS.hotDrainMs);
      const hot = (this.#hotUntil.get(session.id) ?? 0) > now;
      if (hot || now - (this.#drainedAt.get(session.id) ?? 0) >= (this.#signals.has(session.id) ? FLEET_SYNC_LIMITS.signalledIdleDrainMs : FLEET_SYNC_LIMITS.idleDrainMs)) {
        this.#drainedAt.set(session.id, now);
        await this.#drain(session, log);
      }
      this.#failing.delete(session.id);
    } catch (err) {
      const message = (err as Error).message;
      const failures = (failing?.failures ?? 0) + 1;
      const delay = backoffDelay(failures, FLEET_SYNC_LIMITS.retryBackoff);
      this.#failing.set(session.id, { failures, until: Date.now() + delay, message });
      // Once per distinct failure, not once per retry.
      log[message === failing?.message ? 'debug' : 'warn']({ err: message, failures, retryInMs: delay }, 'fleet sync failed; retrying with backoff');
      this.#held.delete(session.id);
    } finally {
      this.#busy.delete(session.id);
    }
  }

  /** Returns true when something was sent (or the session is new): drain the outbox eagerly. */
  async #deliver(session: FleetSession, log: Logger): Promise<boolean> {
    const store = this.#manager.store;
    // Nothing changed since this agent's last complete delivery: no query, no stream.
    const generation = store.generation;
    if (this.#held.has(session.id) && this.#seenGeneration.get(session.id) === generation) return false;
    if (this.#memoGeneration !== generation) {
      // A bundle changed since the memos were filled (at any point of a cycle): never compare against stale options.
      this.#options = new Map();
      this.#specs = new Map();
      this.#memoGeneration = generation;
    }
    let complete = true;
    let changed = false;
    let held = this.#held.get(session.id);
    if (!held) {
      changed = true;
      const r = await fleetRequest(session, 'GET', FLEET_PATHS.resume);
      if (r.status !== 200) throw new Error(`resume: agent answered ${describeTargetError(r.status, r.json)}`);
      // Parsed with the wire contract (protocol/contracts/fleet.ts). An agent older than options in
      // the resume point gets each deployment once more: harmless.
      const resume = resumeAnswerSchema.safeParse(r.json);
      if (!resume.success) throw new Error(`resume: the agent's answer is not a resume point (${resume.error.issues[0]?.path.join('.')}: ${resume.error.issues[0]?.message})`);
      if (resume.data.features?.includes('outbox-signal') === true) this.#signals.add(session.id);
      held = new Map(resume.data.deployments.map((d) => [d.deploymentId, heldKey(d.revision, d.options)]));
      this.#held.set(session.id, held);
      log.info({ holds: held.size }, 'fleet agent resume point');
    }
    const now = Date.now();
    const rows = store.deployments({ clusterId: session.clusterId });
    for (const d of rows) {
      if (d.desiredRevision === null) {
        if (held.has(d.bundle)) {
          const r = await fleetRequest(session, 'DELETE', `${FLEET_PATHS.deployments}${encodeURIComponent(d.bundle)}`);
          if (r.status !== 200) throw new Error(`remove ${d.bundle}: agent answered ${describeTargetError(r.status, r.json)}`);
          held.delete(d.bundle);
          changed = true;
        }
        store.forgetDeployment(d.bundle, session.clusterId);
        continue;
      }
      let opts = this.#options.get(d.bundle);
      if (!opts) {
        const spec = this.#spec(d.bundle);
        // dependsOn selectors resolve against the bundles on this cluster: per cluster, not cached.
        const perCluster = spec.dependsOn?.some((x) => x.selector !== undefined) === true;
        const onCluster = perCluster ? rows.filter((r) => r.desiredRevision !== null).map((r) => ({ name: r.bundle, labels: this.#spec(r.bundle).labels ?? {} })) : [];
        const options = agentOptions(spec, d.bundle, onCluster);
        opts = { options, json: canonicalJson(options) };
        if (!perCluster) this.#options.set(d.bundle, opts);
      }
      const { options } = opts;
      const key = heldKeyOf(d.desiredRevision, opts.json);
      if (held.get(d.bundle) === key) {
        if (d.ackedRevision !== d.desiredRevision) this.#ack({ sessionId: session.id, bundle: d.bundle, clusterId: session.clusterId, revision: d.desiredRevision });
        continue;
      }
      const refusalKey = `${session.id}/${d.bundle}/${key}`;
      if (this.#refused.has(refusalKey)) continue;
      const set = await this.#set(d.desiredRevision);
      const heldKeyNow = held.get(d.bundle);
      const heldRevision = heldKeyNow === undefined ? undefined : heldKeyNow.slice(0, heldKeyNow.indexOf('\n'));
      const url = `${FLEET_PATHS.deployments}${encodeURIComponent(d.bundle)}`;
      // A delta against what the agent holds when that is much smaller (decision 0755); the whole
      // set when it holds nothing, the delta is not worth it, or the agent refuses it.
      // Only where both HELLOs listed FLEET_DELTA (the protocol's capability registry); otherwise whole sets.
      const delta = session.has?.('FLEET_DELTA') === true && heldRevision !== undefined && heldRevision !== d.desiredRevision ? await this.#deltaBody(d.bundle, key, heldRevision, set, options) : undefined;
      let payload = delta ?? this.#fullBody(d.bundle, key, set, options);
      let r = await fleetRequest(session, 'PUT', url, payload);
      if (delta && r.status >= 400 && r.status < 500) {
        log.info({ bundle: d.bundle, from: heldRevision, err: describeTargetError(r.status, r.json) }, 'fleet agent refused the delta; sending the whole set');
        payload = this.#fullBody(d.bundle, key, set, options);
        r = await fleetRequest(session, 'PUT', url, payload);
      } else if (delta && r.status === 200) {
        this.deltaDeliveries++;
      }
      if (r.status >= 500) {
        // The agent could not store it now (its disk is full, its database busy): not a refusal of
        // the revision, which would be final; the sync fails and is retried with backoff (issue 14).
        throw new Error(`deployment ${d.bundle}: the agent could not take it now (${r.status} ${describeTargetError(r.status, r.json)})`);
      }
      if (r.status !== 200) {
        // The uniform `{"error":{"code","message"}}`, or the bare `{code, message}` of agents before 1.1.
        const e = readTargetError(r.json);
        log.warn({ bundle: d.bundle, status: r.status, code: e?.code, err: e?.message }, 'fleet agent refused a deployment');
        this.#refused.add(refusalKey);
        // A pending acknowledgement of an earlier revision must not land after (and over) the refusal.
        this.#acks.flush();
        store.reportRefusal(d.bundle, session.clusterId, d.desiredRevision, e ? `${e.code}: ${e.message}` : `${r.status}: `, now);
        continue;
      }
      held.set(d.bundle, key);
      changed = true;
      this.#ack({ sessionId: session.id, bundle: d.bundle, clusterId: session.clusterId, revision: d.desiredRevision });
      this.deliveries++;
      this.deliveredBytes += payload.length;
      log.info({ bundle: d.bundle, revision: d.desiredRevision, objects: set.objects.length, bytes: payload.length, delta: payload === delta }, 'deployment delivered');
    }
    // Deployments the agent holds that the server never assigned it (deleted while offline).
    const known = new Set(rows.map((d) => d.bundle));
    for (const id of [...held.keys()]) {
      if (known.has(id)) continue;
      const r = await fleetRequest(session, 'DELETE', `${FLEET_PATHS.deployments}${encodeURIComponent(id)}`);
      if (r.status === 200) held.delete(id);
      else complete = false;
      changed = true;
    }
    if (complete) this.#seenGeneration.set(session.id, generation);
    return changed;
  }

  /** The PUT body with the whole set; the same bytes for every agent of this revision and options. */
  #fullBody(bundle: string, key: string, set: ManifestSet, options: Record<string, unknown>): Buffer {
    return this.#cachedBody(`${bundle}\n${key}`, () => ({ id: bundle, bundle, revision: set.revision, manifests: set.objects.map((o) => o.object), options }));
  }

  /** The PUT body as a delta from `from`, or undefined when the base is gone or the delta is not much smaller. */
  async #deltaBody(bundle: string, key: string, from: string, set: ManifestSet, options: Record<string, unknown>): Promise<Buffer | undefined> {
    const cacheKey = `${bundle}\n${key}\n${from}`;
    const known = this.#deltas.get(cacheKey);
    if (known !== undefined) return known ?? undefined;
    let base: ManifestSet;
    try {
      base = await this.#set(from);
    } catch {
      return undefined;
    }
    const d = diffManifestSets(base, set);
    const body = Buffer.from(JSON.stringify({
      id: bundle, bundle, revision: set.revision, options,
      delta: { from, upserts: d.upserts.map((e) => ({ id: e.id, object: e.object })), removals: d.removals },
    }));
    // The decision is cached with the body: every agent at this base gets the same answer.
    const worth = body.length * FLEET_SYNC_LIMITS.deltaMinSaving < this.#fullBody(bundle, key, set, options).length ? body : null;
    this.#deltas.set(cacheKey, worth);
    while (this.#deltas.size > FLEET_SYNC_LIMITS.cachedBodies) this.#deltas.delete(this.#deltas.keys().next().value ?? '');
    return worth ?? undefined;
  }

  #cachedBody(cacheKey: string, make: () => unknown): Buffer {
    let body = this.#bodies.get(cacheKey);
    if (!body) {
      body = Buffer.from(JSON.stringify(make()));
      this.#bodies.set(cacheKey, body);
      while (this.#bodies.size > FLEET_SYNC_LIMITS.cachedBodies) this.#bodies.delete(this.#bodies.keys().next().value ?? '');
    }
    return body;
  }

  /** Not awaited: an acknowledgement that fails to store makes the next pass deliver-check this agent again. */
  #ack(a: Ack): void {
    this.#acks.submit(a).catch((err: unknown) => {
      this.#seenGeneration.delete(a.sessionId);
      this.#log.warn({ err: (err as Error).message, bundle: a.bundle, clusterId: a.clusterId }, 'storing a delivery acknowledgement failed; the next pass writes it again');
    });
  }

  #set(revision: string): Promise<ManifestSet> {
    let p = this.#sets.get(revision);
    if (!p) {
      p = this.#manager.store.manifestSet(revision);
      p.catch(() => this.#sets.delete(revision));
      this.#sets.set(revision, p);
      // Keep the newest few: sets can be tens of MiB.
      while (this.#sets.size > FLEET_SYNC_LIMITS.cachedSets) this.#sets.delete(this.#sets.keys().next().value ?? '');
    }
    return p;
  }

  /** Outbox rows in order; stored (de-duplicated by seq) before the agent may drop them. */
  async #drain(session: FleetSession, log: Logger): Promise<void> {
    for (;;) {
      const r = await fleetRequest(session, 'GET', `${FLEET_PATHS.outbox}?limit=${FLEET_SYNC_LIMITS.outboxBatch}`);
      if (r.status !== 200) throw new Error(`outbox: agent answered ${describeTargetError(r.status, r.json)}`);
      // Checked row by row: a bad row is quarantined and passed, never a stall (issue 14).
      const { rows, quarantined } = checkOutboxRows(r.json);
      if (rows.length + quarantined.length === 0) return;
      if (quarantined.length > 0) log.warn({ seqs: quarantined.map((q) => q.seq), reason: quarantined[0]?.reason }, 'outbox rows of the wrong shape quarantined');
      const fresh = await this.#statuses.submit({ agentId: session.agentId, clusterId: session.clusterId, rows, quarantined });
      const last = Math.max(...rows.map((x) => x.seq), ...quarantined.map((x) => x.seq));
      const ack = await fleetRequest(session, 'POST', FLEET_PATHS.outboxAck, { seq: last } satisfies OutboxAck);
      if (ack.status !== 200) throw new Error(`outbox ack: agent answered ${describeTargetError(ack.status, ack.json)}`);
      if (fresh > 0) this.#statusesChanged = true;
      log.debug({ rows: rows.length, fresh, last }, 'statuses stored');
      if (rows.length + quarantined.length < FLEET_SYNC_LIMITS.outboxBatch) return;
    }
  }
}
