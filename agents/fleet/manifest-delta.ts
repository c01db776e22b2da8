// A desired deployment sent as a delta against the revision the agent already holds (decision
// 0755): the objects added or changed, whole, and the ids of those removed. The agent rebuilds the
// full set and checks that it hashes to the revision the server named, with the same naming the
// server uses (protocol/manifest-digest.ts); a delta for another base, or one that does not add up,
// is refused with DELTA_MISMATCH and the server sends the whole set instead. Pure.
import { canonicalJson, desiredDeltaSchema, manifestRevision, sha256Hex, type DesiredDeltaWire } from '../../protocol/index.ts';
import type { DesiredDeployment, KubeObject } from './types.ts';
import { keyOf, refOf } from './object-ref.ts';
import { FleetAgentError } from './errors.ts';

/** The PUT body as a delta: the wire contract (protocol/contracts/fleet.ts). `delta.from` is the
 *  revision it applies to (the one the agent holds); upserts are whole objects with their ids. */
export type DesiredDelta = DesiredDeltaWire;

/** Whether a body is a delta by the contract (the schema has no transforms: what passes is what was sent). */
export function isDesiredDelta(v: unknown): v is DesiredDelta {
  return desiredDeltaSchema.safeParse(v).success;
}

/** The id the server gives an object: `group/kind/namespace/name` (the agent's key). */
const idOf = (obj: KubeObject): string => keyOf(refOf(obj));

/** The full deployment the delta describes, from the one held; throws DELTA_MISMATCH. */
export function applyDelta(held: DesiredDeployment | undefined, d: DesiredDelta): DesiredDeployment {
  if (!held || held.revision !== d.delta.from) {
    throw new FleetAgentError('DELTA_MISMATCH', `delta for ${d.id} applies to revision ${d.delta.from.slice(0, 12)}, but this agent holds ${held ? held.revision.slice(0, 12) : 'nothing'}`);
  }
  const byId = new Map(held.manifests.map((m) => [idOf(m), m]));
  for (const id of d.delta.removals) {
    if (typeof id !== 'string' || !byId.delete(id)) throw new FleetAgentError('DELTA_MISMATCH', `delta for ${d.id} removes ${String(id)}, which revision ${held.revision.slice(0, 12)} does not have`);
  }
  for (const u of d.delta.upserts) {
    if (typeof u !== 'object' || u === null || typeof u.object !== 'object' || u.object === null || typeof u.object.metadata !== 'object' || idOf(u.object) !== u.id) {
      throw new FleetAgentError('DELTA_MISMATCH', `delta for ${d.id} has an object whose id does not match it (${String(u?.id)})`);
    }
    byId.set(u.id, u.object);
  }
  const entries = [...byId].map(([id, object]) => ({ id, object, sha256: sha256Hex(canonicalJson(object)) })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const revision = manifestRevision(entries);
  if (revision !== d.revision) {
    throw new FleetAgentError('DELTA_MISMATCH', `delta for ${d.id} rebuilds revision ${revision.slice(0, 12)}, not ${d.revision.slice(0, 12)}`);
  }
  return { id: d.id, bundle: d.bundle, revision: d.revision, manifests: entries.map((e) => e.object), options: d.options };
}
