// Corrects the objects a drift watch reported (drift-watch.ts), one by one, instead of a whole pass:
// each is read again (the event may be stale: a later apply, ours or a new revision's, may have
// fixed it already), and re-applied with its bundle label only if it still differs, its
// deployment is still at the revision it was watched for, fully applied, and correctDrift is on.
// As in a pass, the drift is reported (Modified) before it is fixed, then the pass's last status
// again. Runs serialised with the passes (reconciler.ts), never beside an apply.
import type { ReconcilerDeps } from './reconciler.ts';
import type { DeploymentStatus } from './types.ts';
import type { WatchedObject } from './watch-scopes.ts';
import { computeStatus, type ObservedObject } from './deployment-state.ts';
import { diffObject } from './drift.ts';
import { foreignOwner, ownerOf, withOwner } from './ownership.ts';
import { describeRef } from './object-ref.ts';
import { compareApplyRank } from './apply-order.ts';
import { ensureNamespaces } from './ensure-namespaces.ts';
import { readinessOf } from './readiness.ts';
import { FleetAgentError } from './errors.ts';

/** Corrects what still drifted; returns the objects re-applied, as `Kind ns/name`. */
export async function correctDrifted(deps: ReconcilerDeps, drifted: readonly WatchedObject[], lastStatus: (id: string) => DeploymentStatus | undefined): Promise<string[]> {
  const { store, kube, log } = deps;
  const byDeployment = new Map<string, WatchedObject[]>();
  for (const w of drifted) byDeployment.set(w.deploymentId, [...(byDeployment.get(w.deploymentId) ?? []), w]);
  const corrected: string[] = [];
  for (const [id, objs] of byDeployment) {
    const d = store.deployment(id);
    if (!d || d.options.correctDrift !== true || d.revision !== objs[0]!.revision) continue;
    const applied = store.applied(id);
    if (applied.revision !== d.revision || store.journal.open(id) !== undefined) continue;
    const still: { w: WatchedObject; observed: ObservedObject }[] = [];
    for (const w of objs) {
      const live = await kube.get(w.object.ref).catch((err: unknown) => {
        if (err instanceof FleetAgentError && err.code === 'KIND_UNKNOWN') return undefined;
        throw err;
      });
      const fields = live === undefined ? [] : diffObject(w.object.manifest, live, d.options.comparePatches);
      if (live !== undefined && fields.length === 0 && ownerOf(live) === d.bundle) continue;
      const owner = foreignOwner(live, d.bundle, d.options.takeOwnership === true);
      if (owner !== undefined) {
        log.info({ deployment: id, object: describeRef(w.object.ref), owner }, 'drift not corrected: the object belongs to another bundle');
        continue;
      }
      still.push({ w, observed: { ref: w.object.ref, readiness: live === undefined ? undefined : readinessOf(live), drift: fields } });
    }
    if (still.length === 0) continue;
    // Report the drift before fixing it, so the server's history shows that it happened.
    store.outbox.enqueue(computeStatus({ desired: d, applied, journalOpen: false, waitingFor: [], observed: still.map((s) => s.observed) }), deps.now());
    still.sort((a, b) => compareApplyRank(a.w.object.ref, b.w.object.ref));
    await ensureNamespaces(kube, still.filter((s) => s.observed.readiness === undefined).map((s) => s.w.object.ref));
    const mine: string[] = [];
    for (const { w } of still) {
      const live = await kube.apply(withOwner(w.object.manifest, d.bundle));
      store.updateUid(id, { ...w.object.ref, uid: String(live.metadata.uid ?? '') });
      mine.push(describeRef(w.object.ref));
    }
    log.info({ deployment: id, corrected: mine, by: 'watch' }, 'drift corrected');
    corrected.push(...mine);
    // Back to what the last pass saw; the next pass refreshes readiness.
    const last = lastStatus(id);
    if (last !== undefined && last.revision === d.revision) store.outbox.enqueue(last, deps.now());
  }
  return corrected;
}
