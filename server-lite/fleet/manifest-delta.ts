// What changed between two manifest sets of one (bundle, cluster): the server sends an agent that
// reconnects at revision `from` only this delta to reach `to` (issue 6: resume, send only what
// changed). Applying checks both ends: the base must be `from` and the result must hash to `to`,
// so a delta applied to the wrong base is refused instead of producing a third, unknown state.
import { FleetError } from './errors.ts';
import { revisionOf, sha256, canonicalJson, type ManifestEntry, type ManifestSet } from './manifest-set.ts';

export interface ManifestDelta {
  from: string;
  to: string;
  /** Objects added or changed, whole (objects are the unit of server-side apply). */
  upserts: ManifestEntry[];
  /** Ids of objects in `from` that `to` no longer has. */
  removals: string[];
}

export function diffManifestSets(from: ManifestSet, to: ManifestSet): ManifestDelta {
  const old = new Map(from.objects.map((e) => [e.id, e.sha256]));
  const upserts = to.objects.filter((e) => old.get(e.id) !== e.sha256);
  const keep = new Set(to.objects.map((e) => e.id));
  const removals = from.objects.filter((e) => !keep.has(e.id)).map((e) => e.id);
  return { from: from.revision, to: to.revision, upserts, removals };
}

export function applyManifestDelta(base: ManifestSet, delta: ManifestDelta): ManifestSet {
  if (base.revision !== delta.from) {
    throw new FleetError('DELTA_MISMATCH', `delta is from revision ${delta.from.slice(0, 12)} but the base is ${base.revision.slice(0, 12)}; send the full set`);
  }
  const byId = new Map(base.objects.map((e) => [e.id, e]));
  for (const id of delta.removals) byId.delete(id);
  for (const e of delta.upserts) {
    if (sha256(canonicalJson(e.object)) !== e.sha256) throw new FleetError('DELTA_MISMATCH', `delta object ${e.id} does not match its hash`);
    byId.set(e.id, e);
  }
  const objects = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const revision = revisionOf(objects);
  if (revision !== delta.to) throw new FleetError('DELTA_MISMATCH', `applying the delta gives revision ${revision.slice(0, 12)}, not ${delta.to.slice(0, 12)}; send the full set`);
  return { revision, objects };
}
