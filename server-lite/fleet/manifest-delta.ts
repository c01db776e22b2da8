// What changed between two manifest sets of one (bundle, cluster): the server sends an agent that
// reconnects at revision `from` only this delta to reach `to` (issue 6: resume, send only what
// changed). The agent applies it (agents/fleet/manifest-delta.ts) and checks both ends: the base must
// be `from` and the result must hash to `to` (test/integration/fleet-delta.test.ts: the round trip
// through the agent's code, for random edits).
import type { ManifestEntry, ManifestSet } from './manifest-set.ts';

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
