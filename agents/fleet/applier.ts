// Applies one deployment's desired revision, driven by the apply journal: plan (or resume the open
// plan of the same revision), then each step in order — server-side apply, prune or orphan —
// recording each in the journal as it completes, waiting for applied CRDs to be Established before
// anything else. A failure leaves the journal open; the next attempt continues where it stopped.
import type { Logger } from 'pino';
import type { DesiredDeployment } from './types.ts';
import type { Kube } from './kube.ts';
import type { FleetStore } from './store.ts';
import type { JournalStep } from './apply-journal.ts';
import { planRevision } from './apply-plan.ts';
import { resolveManifests } from './resolve.ts';
import { apiVersionOf, applyTier, describeRef, isCrd, keyOf } from './object-ref.ts';
import { readinessOf } from './readiness.ts';
import { FleetAgentError, describeFleetError } from './errors.ts';
import { FLEET_AGENT_LIMITS } from './limits.ts';
import { ensureNamespaces } from './ensure-namespaces.ts';
import { readLive } from './live-objects.ts';
import { foreignOwner, ownerOf, withOwner } from './ownership.ts';

export interface ApplierDeps {
  kube: Kube;
  store: FleetStore;
  now: () => Date;
  log: Logger;
  sleep?: (ms: number) => Promise<void>;
  /** Called after each journal step is recorded (progress reporting; the crash tests watch it). */
  onStep?: (deploymentId: string, step: JournalStep) => void;
  crdTimeoutMs?: number;
}

export type ApplyResult = { ok: true; steps: number; resumed: boolean } | { ok: false; error: string };

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until every CRD the revision applies is Established, and then until discovery serves each
 * kind of the revision that is not served yet: the apiserver sets Established before its discovery
 * document lists the new kind (a short window, seconds on a loaded machine), and an apply in that
 * window fails with 404 or KIND_UNKNOWN.
 */
async function waitEstablished(deps: ApplierDeps, steps: readonly JournalStep[]): Promise<void> {
  const sleep = deps.sleep ?? defaultSleep;
  const timeout = deps.crdTimeoutMs ?? FLEET_AGENT_LIMITS.CRD_ESTABLISHED_TIMEOUT_MS;
  // Polls are counted, not timed, so a fake clock in tests cannot make this wait forever.
  const crds = steps.filter((x) => x.action === 'apply' && isCrd(x.ref));
  if (crds.length === 0) return;
  for (const s of crds) {
    for (let waited = 0; ; waited += FLEET_AGENT_LIMITS.CRD_POLL_MS) {
      const live = await deps.kube.get(s.ref);
      if (live && readinessOf(live).ready) break;
      if (waited >= timeout) throw new FleetAgentError('CRD_NOT_ESTABLISHED', `${s.ref.name} not Established after ${timeout} ms`);
      await sleep(FLEET_AGENT_LIMITS.CRD_POLL_MS);
    }
  }
  const kinds = new Map<string, JournalStep['ref']>();
  for (const s of steps) if (!s.done && s.action === 'apply' && applyTier(s.ref) === 2) kinds.set(`${apiVersionOf(s.ref)} ${s.ref.kind}`, s.ref);
  for (const [name, ref] of kinds) {
    for (let waited = 0; ; waited += FLEET_AGENT_LIMITS.CRD_POLL_MS) {
      if (await deps.kube.resource(ref)) break;
      if (waited >= timeout) throw new FleetAgentError('CRD_NOT_ESTABLISHED', `${name} not served after ${timeout} ms, though its CRD is Established`);
      await sleep(FLEET_AGENT_LIMITS.CRD_POLL_MS);
    }
  }
}

export async function applyDeployment(deps: ApplierDeps, d: DesiredDeployment): Promise<ApplyResult> {
  const { kube, store, log } = deps;
  const journal = store.journal;
  try {
    const resolved = await resolveManifests(kube, d);
    const byKey = new Map(resolved.map((r) => [keyOf(r.ref), r]));
    let open = journal.open(d.id);
    const resumed = open !== undefined && open.revision === d.revision;
    if (!resumed) {
      const steps = planRevision(resolved.map((r) => r.ref), store.inventory(d.id), d.options.keepResources === true);
      journal.begin(d.id, d.revision, steps, deps.now());
      open = journal.open(d.id);
      log.info({ deployment: d.id, bundle: d.bundle, revision: d.revision, steps: steps.length }, 'apply planned');
    } else {
      log.info({ deployment: d.id, revision: d.revision, done: open!.steps.filter((s) => s.done).length, steps: open!.steps.length }, 'apply resumed from journal');
    }
    const steps = open!.steps;
    const pending = steps.filter((s) => !s.done && s.action === 'apply').map((s) => s.ref);
    // Ownership, all or nothing: one read of what is live (a LIST per kind and namespace where it
    // pays), and no object of another bundle is touched unless this one takes ownership.
    const live = await readLive(kube, steps.filter((s) => !s.done && s.action !== 'orphan').map((s) => s.ref));
    const takeOwnership = d.options.takeOwnership === true;
    const taken = pending.flatMap((ref) => {
      const owner = foreignOwner(live.get(keyOf(ref)), d.bundle, takeOwnership);
      return owner ? [`${describeRef(ref)} belongs to bundle ${owner}`] : [];
    });
    if (taken.length > 0) {
      throw new FleetAgentError('OWNED_BY_ANOTHER_BUNDLE', `${taken.slice(0, 5).join('; ')}${taken.length > 5 ? ` (and ${taken.length - 5} more)` : ''}; set helm.takeOwnership: true in fleet.yaml to take them over`);
    }
    const created = await ensureNamespaces(kube, pending);
    if (created.length > 0) log.info({ deployment: d.id, namespaces: created }, 'created target namespaces the bundle does not declare');
    let crdsChecked = false;
    for (const step of steps) {
      if (step.done) continue;
      if (!crdsChecked && applyTier(step.ref) === 2) {
        await waitEstablished(deps, steps);
        crdsChecked = true;
      }
      if (step.action === 'apply') {
        const obj = byKey.get(keyOf(step.ref));
        if (!obj) throw new FleetAgentError('MANIFEST_INVALID', `journal step names ${describeRef(step.ref)}, which revision ${d.revision} lacks`);
        const applied = await kube.apply(withOwner(obj.manifest, d.bundle));
        journal.applied(d.id, step.step, { ...step.ref, uid: String(applied.metadata.uid ?? '') });
      } else if (step.action === 'prune') {
        const owner = ownerOf(live.get(keyOf(step.ref)));
        if (owner !== undefined && owner !== d.bundle) {
          // Taken over by another bundle since: it is that bundle's now, not ours to delete.
          log.info({ deployment: d.id, object: describeRef(step.ref), owner }, 'not pruned: it belongs to another bundle');
          journal.pruned(d.id, step.step, step.ref);
          deps.onStep?.(d.id, { ...step, done: true });
          continue;
        }
        const gone = await kube.delete(step.ref).catch((err: unknown) => {
          // A kind the cluster no longer serves has nothing left to delete.
          if (err instanceof FleetAgentError && err.code === 'KIND_UNKNOWN') return false;
          throw err;
        });
        log.info({ deployment: d.id, object: describeRef(step.ref), deleted: gone }, 'pruned');
        journal.pruned(d.id, step.step, step.ref);
      } else {
        journal.pruned(d.id, step.step, step.ref);
      }
      deps.onStep?.(d.id, { ...step, done: true });
    }
    journal.finish(d.id, d.revision, deps.now());
    log.info({ deployment: d.id, revision: d.revision, steps: steps.length, resumed }, 'applied');
    return { ok: true, steps: steps.length, resumed };
  } catch (err) {
    const error = describeFleetError(err);
    store.recordError(d.id, d.revision, error);
    log.warn({ deployment: d.id, revision: d.revision, err: error }, 'apply failed');
    return { ok: false, error };
  }
}
