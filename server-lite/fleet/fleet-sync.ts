// Delivery to fleet agents (decision 0750): for each connected fleet tunnel, the server opens
// streams to the agent's `http:drover-fleet` target. On a new session it asks for the resume point
// (what the agent holds durably), then sends only deployments whose revision or options differ (a
// fleet.yaml that only turns on correctDrift changes no manifest, hence no revision), removes the
// ones no longer targeted, and drains the agent's outbox in sequence order, storing statuses
// de-duplicated by (agent, seq) before acknowledging them. Bulk manifests ride streams, never
// control messages. Each cycle is cheap when nothing changed: no stream is opened.
// This file is the loop; its parts are one concept each: delivery-options.ts (what is sent with a
// deployment, the held key), delivery-plan.ts (pure: the steps for one agent), body-cache.ts (PUT
// bodies and manifest sets), fleet-session.ts (the session and one request to the agent).
import type { Logger } from 'pino';
import { describeTargetError, FLEET_PATHS, readTargetError, resumeAnswerSchema, wallClock, type Clock, type OutboxAck, type TimerHandle } from '../../protocol/index.ts';
import { FLEET_SYNC_LIMITS } from './limits.ts';
import type { FleetManager } from './fleet-manager.ts';
import { backoffDelay } from './backoff.ts';
import { checkOutboxRows } from './outbox-rows.ts';
import type { BundleRow } from './fleet-store.ts';
import { DeliveryOptionsMemo, heldKey } from './delivery-options.ts';
import { planDelivery } from './delivery-plan.ts';
import { DeliveryBodies } from './body-cache.ts';
import { fleetRequest, type FleetSession } from './fleet-session.ts';

// Re-exported for importers of the file before the split.
export { agentOptions, heldKey, resolveDependsOn } from './delivery-options.ts';
export { fleetRequest, FLEET_TARGET, type FleetSession } from './fleet-session.ts';

interface Ack { sessionId: string; bundle: string; clusterId: string; revision: string }

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
  #timer: TimerHandle | undefined;
  #running = false;
  /** Epoch milliseconds and timers (protocol/clock.ts); a ManualClock in tests steps the backoff. */
  readonly #clock: Clock;
  #online = new Set<string>();
  /** HA: clusters whose fleet tunnel sits on another live replica (rollout gates count them online). */
  elsewhere: (() => Promise<ReadonlySet<string>>) | undefined;
  #remoteOnline: ReadonlySet<string> = new Set();
  /** Bundle specs for one store generation (loaded once per generation, shared by every agent). */
  #specs: { generation: number; specs: Promise<Map<string, BundleRow['spec']>> } | undefined;
  /** PUT bodies and the manifest sets they come from, shared by every agent. */
  readonly #bodies: DeliveryBodies;
  /** session id → until when the outbox is drained every cycle, and when it was drained last. */
  readonly #hotUntil = new Map<string, number>();
  readonly #drainedAt = new Map<string, number>();
  /** Sessions whose agent signals queued statuses (resume `features` has `outbox-signal`). */
  readonly #signals = new Set<string>();
  /** session id → the store generation its last complete delivery saw. */
  readonly #seenGeneration = new Map<string, number>();
  /** Options per bundle, for one store generation. */
  readonly #options: DeliveryOptionsMemo;
  /** Deliveries sent as deltas, and bytes of PUT bodies sent (tests, bench, metrics). */
  deltaDeliveries = 0;
  deliveredBytes = 0;
  /** Deliveries completed (tests, bench). */
  deliveries = 0;

  constructor(manager: FleetManager, sessions: () => FleetSession[], log: Logger, clock: Clock = wallClock) {
    this.#manager = manager;
    this.#clock = clock;
    const store = manager.store;
    this.#bodies = new DeliveryBodies((revision) => store.manifestSet(revision));
    this.#options = new DeliveryOptionsMemo((bundle) => this.#specNow.get(bundle) ?? {});
    this.#sessions = sessions;
    this.#log = log.child({ component: 'fleet' });
  }

  #pass: Promise<void> | undefined;
  #again = false;

  start(): void {
    this.#running = true;
    const tick = (): void => {
      if (!this.#running) return;
      this.#runPass();
      this.#timer = this.#clock.setTimeout(tick, FLEET_SYNC_LIMITS.intervalMs);
    };
    this.#timer = this.#clock.setTimeout(tick, FLEET_SYNC_LIMITS.intervalMs);
  }

  stop(): void {
    this.#running = false;
    this.#clock.clearTimeout(this.#timer);
    void this.#manager.store.flush();
  }

  /** Clusters with a fleet tunnel now. */
  online(): ReadonlySet<string> {
    const here = new Set(this.#sessions().map((s) => s.clusterId));
    for (const c of this.#remoteOnline) here.add(c);
    return here;
  }

  /** The agent said statuses are queued: drain its outbox at the next cycle. */
  drainSoon(sessionId: string): void {
    this.#drainedAt.delete(sessionId);
  }

  kick(): void {
    setImmediate(() => this.#runPass());
  }

  /**
   * One pass at a time: a kick or a tick during a pass runs one more after it, so a burst of
   * kicks (bundles applied in a row, hints from other replicas) or a pass longer than the
   * interval costs one extra pass, not one each (planning and the store refresh run once per pass).
   */
  #runPass(): void {
    if (this.#pass) {
      this.#again = true;
      return;
    }
    this.#pass = this.syncAll()
      .catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'fleet sync pass failed; retrying next cycle'))
      .finally(() => {
        this.#pass = undefined;
        if (this.#again) {
          this.#again = false;
          this.#runPass();
        }
      });
  }

  async syncAll(): Promise<void> {
    const sessions = this.#sessions();
    const live = new Set(sessions.map((s) => s.id));
    for (const id of this.#held.keys()) if (!live.has(id)) this.#held.delete(id);
    for (const m of [this.#hotUntil, this.#drainedAt, this.#seenGeneration, this.#failing]) for (const id of m.keys()) if (!live.has(id)) m.delete(id);
    for (const id of this.#signals) if (!live.has(id)) this.#signals.delete(id);
    for (const k of this.#refused) if (!live.has(k.slice(0, k.indexOf('/')))) this.#refused.delete(k);
    const store = this.#manager.store;
    try {
      // HA: what other replicas stored (bundles, assignments, statuses) moves the shared counters.
      await store.refresh();
      if (this.elsewhere) this.#remoteOnline = await this.elsewhere();
      // A change in who is online can open rollout gates (an Offline cluster came back).
      const online = new Set(this.online());
      // New statuses can complete a partition or free maxUnavailable budget, a bundle stored on
      // another replica needs assigning: plan again (only where rollouts are scheduled).
      const planned = this.#manager.planned;
      const onlineChanged = online.size !== this.#online.size || [...online].some((c) => !this.#online.has(c));
      this.#online = online;
      if (this.#manager.scheduling && (onlineChanged || planned.statusVersion !== store.statusVersion || planned.generation !== store.generation)) await this.#manager.plan();
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'fleet planning failed; retrying next cycle');
    }
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
    if (failing && this.#clock.now() < failing.until) return;
    this.#busy.add(session.id);
    const log = this.#log.child({ clusterId: session.clusterId, agentId: session.agentId });
    try {
      const delivered = await this.#deliver(session, log);
      const now = this.#clock.now();
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
      this.#failing.set(session.id, { failures, until: this.#clock.now() + delay, message });
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
    // A bundle changed since the memos were filled (at any point of a cycle): never compare against stale options.
    await this.#loadSpecs(generation);
    this.#options.at(generation);
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
    const now = this.#clock.now();
    const steps = planDelivery({
      rows: await store.deployments({ clusterId: session.clusterId }),
      held,
      optionsOf: (bundle, assigned) => this.#options.of(bundle, assigned),
      refused: (bundle, key) => this.#refused.has(`${session.id}/${bundle}/${key}`),
    });
    for (const step of steps) {
      const url = `${FLEET_PATHS.deployments}${encodeURIComponent(step.bundle)}`;
      if (step.kind === 'remove') {
        const r = await fleetRequest(session, 'DELETE', url);
        if (r.status !== 200) throw new Error(`remove ${step.bundle}: agent answered ${describeTargetError(r.status, r.json)}`);
        held.delete(step.bundle);
        changed = true;
        await store.forgetDeployment(step.bundle, session.clusterId);
        continue;
      }
      if (step.kind === 'forget') {
        await store.forgetDeployment(step.bundle, session.clusterId);
        continue;
      }
      if (step.kind === 'ack') {
        this.#ack({ sessionId: session.id, bundle: step.bundle, clusterId: session.clusterId, revision: step.revision });
        continue;
      }
      if (step.kind === 'orphan') {
        const r = await fleetRequest(session, 'DELETE', url);
        if (r.status === 200) held.delete(step.bundle);
        else complete = false;
        changed = true;
        continue;
      }
      const { bundle, revision, key, options, heldRevision } = step;
      const set = await this.#bodies.set(revision);
      // A delta against what the agent holds when that is much smaller (decision 0755); the whole
      // set when it holds nothing, the delta is not worth it, or the agent refuses it.
      // Only where both HELLOs listed FLEET_DELTA (the protocol's capability registry); otherwise whole sets.
      const delta = session.has?.('FLEET_DELTA') === true && heldRevision !== undefined && heldRevision !== revision ? await this.#bodies.delta(bundle, key, heldRevision, set, options) : undefined;
      let payload = delta ?? this.#bodies.full(bundle, key, set, options);
      let r = await fleetRequest(session, 'PUT', url, payload);
      if (delta && r.status >= 400 && r.status < 500) {
        log.info({ bundle, from: heldRevision, err: describeTargetError(r.status, r.json) }, 'fleet agent refused the delta; sending the whole set');
        payload = this.#bodies.full(bundle, key, set, options);
        r = await fleetRequest(session, 'PUT', url, payload);
      } else if (delta && r.status === 200) {
        this.deltaDeliveries++;
      }
      if (r.status >= 500) {
        // The agent could not store it now (its disk is full, its database busy): not a refusal of
        // the revision, which would be final; the sync fails and is retried with backoff (issue 14).
        throw new Error(`deployment ${bundle}: the agent could not take it now (${r.status} ${describeTargetError(r.status, r.json)})`);
      }
      if (r.status !== 200) {
        // The uniform `{"error":{"code","message"}}`, or the bare `{code, message}` of agents before 1.1.
        const e = readTargetError(r.json);
        log.warn({ bundle, status: r.status, code: e?.code, err: e?.message }, 'fleet agent refused a deployment');
        this.#refused.add(`${session.id}/${bundle}/${key}`);
        // The store commits a pending acknowledgement of an earlier revision first (not over the refusal).
        await store.reportRefusal(bundle, session.clusterId, revision, e ? `${e.code}: ${e.message}` : `${r.status}: `, now);
        continue;
      }
      held.set(bundle, key);
      changed = true;
      this.#ack({ sessionId: session.id, bundle, clusterId: session.clusterId, revision });
      this.deliveries++;
      this.deliveredBytes += payload.length;
      log.info({ bundle, revision, objects: set.objects.length, bytes: payload.length, delta: payload === delta }, 'deployment delivered');
    }
    if (complete) this.#seenGeneration.set(session.id, generation);
    return changed;
  }

  /** The specs of every bundle at this generation, for DeliveryOptionsMemo (which reads synchronously). */
  #specNow = new Map<string, BundleRow['spec']>();

  async #loadSpecs(generation: number): Promise<void> {
    if (this.#specs?.generation !== generation) {
      const specs = this.#manager.store.bundles().then((bs) => new Map(bs.map((b) => [b.name, b.spec])));
      this.#specs = { generation, specs };
      // A failed read is not kept: the next delivery tries again.
      specs.catch(() => {
        if (this.#specs?.specs === specs) this.#specs = undefined;
      });
    }
    const loaded = this.#specs;
    const specs = await loaded.specs;
    // A newer generation's specs (another worker) are never replaced by an older one's.
    if (this.#specs === loaded) this.#specNow = specs;
  }

  /** Not awaited: an acknowledgement that fails to store makes the next pass deliver-check this agent again. */
  #ack(a: Ack): void {
    this.#manager.store.acked(a.bundle, a.clusterId, a.revision, this.#clock.now()).catch((err: unknown) => {
      this.#seenGeneration.delete(a.sessionId);
      this.#log.warn({ err: (err as Error).message, bundle: a.bundle, clusterId: a.clusterId }, 'storing a delivery acknowledgement failed; the next pass writes it again');
    });
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
      const byseq = new Map(rows.map((x) => [x.seq, x]));
      const appliedAt = (seq: number): string | null => {
        const row = byseq.get(seq);
        return row && row.status.appliedRevision === row.status.revision ? row.createdAt ?? null : null;
      };
      const fresh = await this.#manager.store.recordStatuses(session.agentId, session.clusterId, rows, appliedAt, this.#clock.now(), quarantined);
      const last = Math.max(...rows.map((x) => x.seq), ...quarantined.map((x) => x.seq));
      const ack = await fleetRequest(session, 'POST', FLEET_PATHS.outboxAck, { seq: last } satisfies OutboxAck);
      if (ack.status !== 200) throw new Error(`outbox ack: agent answered ${describeTargetError(ack.status, ack.json)}`);
      log.debug({ rows: rows.length, fresh, last }, 'statuses stored');
      if (rows.length + quarantined.length < FLEET_SYNC_LIMITS.outboxBatch) return;
    }
  }
}
