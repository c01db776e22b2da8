// The reconcile loop, the I/O shell over the pure parts: periodically (and on demand) it walks
// every stored deployment in dependsOn order, applies what is not applied yet (or resumes an open
// journal), observes the live objects, corrects drift where correctDrift is on, and queues each
// status change in the outbox. It reads only SQLite and the kube-apiserver, never the server, so
// it keeps enforcing while offline and after a restart while still offline.
import type { Logger } from 'pino';
import type { DeploymentState, DeploymentStatus, DesiredDeployment, KubeObject } from './types.ts';
import type { Kube } from './kube.ts';
import type { FleetStore } from './store.ts';
import { applyDeployment, type ApplierDeps } from './applier.ts';
import { dependenciesMet, orderDeployments } from './apply-plan.ts';
import { resolveManifests, type ResolvedObject } from './resolve.ts';
import { computeStatus, type ObservedObject } from './deployment-state.ts';
import { diffObject } from './drift.ts';
import { readinessOf } from './readiness.ts';
import { foreignOwner, withOwner } from './ownership.ts';
import { EXPLAINED_KINDS, explainNotReady } from './not-ready-reason.ts';
import { describeRef, keyOf } from './object-ref.ts';
import { compareApplyRank } from './apply-order.ts';
import { describeFleetError } from './errors.ts';
import { readLive } from './live-objects.ts';
import { FLEET_AGENT_LIMITS } from './limits.ts';
import { ensureNamespaces } from './ensure-namespaces.ts';
import { BUNDLE_LABEL } from './ownership.ts';
import { correctDrifted } from './drift-correct.ts';
import type { WatchedObject } from './watch-scopes.ts';
import type { WatchedDeployment } from './drift-watch.ts';

export interface ReconcilerDeps extends Omit<ApplierDeps, 'store' | 'kube'> {
  store: FleetStore;
  kube: Kube;
  intervalMs?: number;
  /** Called with each periodic pass's report (status pages, tests). */
  onPass?: (report: PassReport) => void;
  /** Called after every pass, periodic or triggered (the drift watch follows what it observed). */
  afterEachPass?: (report: PassReport) => void;
}

export interface DeploymentReport {
  id: string;
  state: DeploymentState | undefined;
  applied: boolean;
  corrected: string[];
  error?: string;
}

export interface PassReport {
  deployments: DeploymentReport[];
  queued: number;
  /** Deployments observed at their desired revision, with their resolved objects and last status. */
  observed: (WatchedDeployment & { status: DeploymentStatus })[];
}

async function observe(deps: ReconcilerDeps, d: DesiredDeployment, objs: readonly ResolvedObject[]): Promise<ObservedObject[]> {
  // Only this bundle's objects: a namespace's other thousands of ConfigMaps are never read. One whose
  // label was removed reads as missing, which is drift (the correction puts the label back).
  const live = await readLive(deps.kube, objs.map((o) => o.ref), FLEET_AGENT_LIMITS.LIST_THRESHOLD, `${BUNDLE_LABEL}=${d.bundle}`);
  const observed: ObservedObject[] = objs.map((o) => {
    const obj = live.get(keyOf(o.ref));
    if (!obj) return { ref: o.ref, readiness: undefined, drift: [] };
    return { ref: o.ref, readiness: readinessOf(obj), drift: diffObject(o.manifest, obj, d.options.comparePatches) };
  });
  // A workload that is not ready says why: its pods' Warning events (one events list per namespace).
  const waiting = observed.filter((o) => o.readiness && !o.readiness.ready && EXPLAINED_KINDS.has(o.ref.kind) && o.ref.namespace);
  const events = new Map<string, KubeObject[]>();
  for (const ns of new Set(waiting.map((o) => o.ref.namespace ?? ''))) {
    events.set(ns, await deps.kube.list({ group: '', version: 'v1', kind: 'Event', namespace: ns }).catch(() => []));
  }
  for (const o of waiting) {
    const why = explainNotReady(o.ref, events.get(o.ref.namespace ?? '') ?? []);
    if (why.length > 0 && o.readiness && !o.readiness.ready) o.readiness = { ...o.readiness, reason: `${o.readiness.reason} (${why.join('; ')})` };
  }
  return observed;
}

export async function reconcileOnce(deps: ReconcilerDeps): Promise<PassReport> {
  const { store, log } = deps;
  const all = store.deployments();
  const byId = new Map(all.map((d) => [d.id, d]));
  const { order, cyclic } = orderDeployments(all.map((d) => ({ id: d.id, dependsOn: d.options.dependsOn ?? [] })));
  const states = new Map<string, DeploymentState>();
  const reports: DeploymentReport[] = [];
  const watched: PassReport['observed'] = [];
  let queued = 0;
  const queue = (s: DeploymentStatus): void => {
    states.set(s.deploymentId, s.state);
    if (store.outbox.enqueue(s, deps.now()) !== undefined) queued++;
  };

  for (const d of store.removedDeployments()) {
    // Removed by the server: an empty revision prunes (or, under keepResources, orphans) every
    // object in the inventory through the same journal; then every row of it is dropped.
    const r = await applyDeployment(deps, { ...d, revision: `removed:${d.revision}`, manifests: [] });
    if (r.ok) store.forget(d.id);
    reports.push({ id: d.id, state: undefined, applied: r.ok, corrected: [], ...(r.ok ? {} : { error: r.error }) });
  }
  for (const id of cyclic) {
    const d = byId.get(id)!;
    store.recordError(id, d.revision, `DEPENDENCY_CYCLE: ${cyclic.join(', ')} depend on each other`);
    queue(computeStatus({ desired: d, applied: store.applied(id), journalOpen: false, waitingFor: [], observed: undefined }));
    reports.push({ id, state: 'ErrApplied', applied: false, corrected: [], error: 'DEPENDENCY_CYCLE' });
  }
  for (const id of order) {
    const d = byId.get(id)!;
    const report: DeploymentReport = { id, state: undefined, applied: false, corrected: [] };
    reports.push(report);
    try {
      const wait = dependenciesMet(d.options.dependsOn ?? [], (dep) => states.get(dep));
      const needsApply = (): boolean => store.applied(id).revision !== d.revision || store.journal.open(id) !== undefined;
      if (needsApply() && wait.met) {
        const r = await applyDeployment(deps, d);
        report.applied = r.ok;
        if (!r.ok) report.error = r.error;
      }
      let observed: ObservedObject[] | undefined;
      let resolved: ResolvedObject[] | undefined;
      if (!needsApply()) {
        const objs = await resolveManifests(deps.kube, d);
        resolved = objs;
        observed = await observe(deps, d, objs);
        const drifted = observed.filter((o) => o.readiness === undefined || o.drift.length > 0);
        if (drifted.length > 0 && d.options.correctDrift === true) {
          // Report the drift before fixing it, so the server's history shows that it happened.
          queue(computeStatus({ desired: d, applied: store.applied(id), journalOpen: false, waitingFor: [], observed }));
          const keys = new Set(drifted.map((o) => keyOf(o.ref)));
          // In apply order: a deleted CRD must be back before its resources are re-applied.
          const redo = objs.filter((x) => keys.has(keyOf(x.ref))).sort((a, b) => compareApplyRank(a.ref, b.ref));
          // A deleted namespace the bundle does not declare took its objects with it.
          await ensureNamespaces(deps.kube, redo.map((o) => o.ref));
          for (const o of redo) {
            // Taken over by another bundle since (its helm.takeOwnership): not ours to correct back.
            const owner = foreignOwner(await deps.kube.get(o.ref), d.bundle, d.options.takeOwnership === true);
            if (owner !== undefined) {
              log.info({ deployment: id, object: describeRef(o.ref), owner }, 'drift not corrected: the object belongs to another bundle');
              continue;
            }
            // With its bundle label, as the applier applies it (server-side apply would drop it otherwise).
            const live = await deps.kube.apply(withOwner(o.manifest, d.bundle));
            store.updateUid(id, { ...o.ref, uid: String(live.metadata.uid ?? '') });
            report.corrected.push(describeRef(o.ref));
          }
          log.info({ deployment: id, corrected: report.corrected }, 'drift corrected');
          observed = await observe(deps, d, objs);
        }
      }
      const s = computeStatus({ desired: d, applied: store.applied(id), journalOpen: store.journal.open(id) !== undefined, waitingFor: wait.waitingFor, observed });
      report.state = s.state;
      queue(s);
      if (resolved !== undefined) watched.push({ deployment: d, objects: resolved, status: s });
    } catch (err) {
      // The apiserver is away (restarting, network): no status is better than a false one; the
      // next pass tries again.
      report.error = describeFleetError(err);
      log.warn({ deployment: id, err: report.error }, 'reconcile failed');
    }
  }
  return { deployments: reports, queued, observed: watched };
}

export interface Reconciler {
  /**
   * Runs a pass now, or, when one is in flight (it may have read the store before a change the
   * caller just made), one more right after it; triggers meanwhile share that next pass.
   */
  trigger(): Promise<PassReport>;
  /** Re-applies objects a drift watch saw drift (drift-correct.ts), never beside a pass. */
  correct(drifted: readonly WatchedObject[]): Promise<string[]>;
  start(): void;
  stop(): Promise<void>;
}

/** The periodic loop around `reconcileOnce`; one pass at a time, triggers coalesce into the next. */
export function createReconciler(deps: ReconcilerDeps): Reconciler {
  const interval = deps.intervalMs ?? FLEET_AGENT_LIMITS.RECONCILE_INTERVAL_MS;
  let running: Promise<PassReport> | undefined;
  let next: Promise<PassReport> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  // Passes and watch-driven corrections run one at a time, in the order asked.
  let lock: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = lock.then(fn, fn);
    lock = p.catch(() => undefined);
    return p;
  };
  const lastStatus = new Map<string, DeploymentStatus>();
  const pass = async (): Promise<PassReport> => {
    const r = await reconcileOnce(deps);
    lastStatus.clear();
    for (const o of r.observed) lastStatus.set(o.deployment.id, o.status);
    deps.afterEachPass?.(r);
    return r;
  };
  const trigger = (): Promise<PassReport> => {
    if (running === undefined) {
      running = exclusive(pass).finally(() => { running = undefined; });
      return running;
    }
    next ??= running.catch(() => undefined).then(() => {
      next = undefined;
      return trigger();
    });
    return next;
  };
  const tick = (): void => {
    trigger().then((r) => deps.onPass?.(r)).catch((err: unknown) => deps.log.error({ err: describeFleetError(err) }, 'reconcile pass crashed')).finally(() => {
      if (!stopped) timer = setTimeout(tick, interval);
    });
  };
  return {
    trigger,
    correct: (drifted) => exclusive(() => correctDrifted(deps, drifted, (id) => lastStatus.get(id))),
    start() {
      if (!stopped) return;
      stopped = false;
      tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
      await next?.catch(() => undefined);
      await lock;
    },
  };
}
