// Drift detection (pure): which of the fields we declared differ in the live object. Only the
// desired object's own fields are compared (what we apply is what we own under server-side
// apply), so defaults the apiserver fills in and fields other managers own are never drift.
// comparePatches (Fleet's diff.comparePatches) first patch both sides, then mask JSON pointers.
import type { ComparePatch, KubeObject } from './types.ts';
import { applyOperation, isUnder, joinPointer } from './json-pointer.ts';
import { FLEET_AGENT_LIMITS } from './limits.ts';
import { isQuantityPath, sameQuantity } from './quantity.ts';

/** Keys by which Kubernetes merges list items (strategic merge patch's common patchMergeKeys). */
const MERGE_KEYS = ['name', 'containerPort', 'mountPath', 'devicePath', 'port', 'ip', 'topologyKey'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/**
 * null, {}, [] and Go zero values ("", false, 0) in a manifest read back as absent: the apiserver
 * drops them (omitempty), so absent live is equal. The cost: deleting a pointer field someone set
 * to false is not seen as drift.
 */
const isEmpty = (v: unknown): boolean => v === null || v === '' || v === false || v === 0 ||
  (Array.isArray(v) && v.length === 0) || (isObj(v) && Object.keys(v).length === 0);

export function patchesFor(desired: KubeObject, patches: readonly ComparePatch[] = []): ComparePatch[] {
  return patches.filter((p) =>
    (p.apiVersion === undefined || p.apiVersion === desired.apiVersion) && (p.kind === undefined || p.kind === desired.kind) &&
    (p.name === undefined || p.name === desired.metadata.name) && (p.namespace === undefined || p.namespace === (desired.metadata.namespace ?? '')));
}

/** The part of a manifest we compare: no status, and of metadata only labels and annotations. */
function comparable(obj: unknown): Obj {
  const o = isObj(obj) ? structuredClone(obj) : {};
  // A Secret's stringData is write-only: the apiserver merges it into data (base64) and drops it.
  if (o.kind === 'Secret' && o.apiVersion === 'v1' && isObj(o.stringData)) {
    const data = isObj(o.data) ? o.data : {};
    for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
    o.data = data;
    delete o.stringData;
  }
  delete o.status;
  const meta = isObj(o.metadata) ? o.metadata : {};
  o.metadata = Object.fromEntries(Object.entries(meta).filter(([k]) => k === 'labels' || k === 'annotations'));
  delete o.apiVersion;
  delete o.kind;
  return o;
}

function mergeKeyOf(items: unknown[]): string | undefined {
  if (items.length === 0 || !items.every(isObj)) return undefined;
  return MERGE_KEYS.find((k) => items.every((it) => (it as Obj)[k] !== undefined));
}

function compare(want: unknown, have: unknown, path: (string | number)[], out: string[]): void {
  if (have === undefined) {
    if (!isEmpty(want)) out.push(joinPointer(path));
    return;
  }
  if (isObj(want)) {
    if (!isObj(have)) { out.push(joinPointer(path)); return; }
    for (const [k, v] of Object.entries(want)) compare(v, have[k], [...path, k], out);
    return;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(have)) { out.push(joinPointer(path)); return; }
    const key = mergeKeyOf(want);
    if (key !== undefined && have.every(isObj)) {
      want.forEach((w, i) => compare(w, have.find((h) => (h as Obj)[key] === (w as Obj)[key]), [...path, i], out));
      return;
    }
    if (want.length !== have.length) { out.push(joinPointer(path)); return; }
    want.forEach((w, i) => compare(w, have[i], [...path, i], out));
    return;
  }
  // Scalars: an int-or-string written as "80" reads back as 80 and is the same value; resource
  // quantities read back canonical (0.5 → 500m) and compare by amount.
  if (want === have || (want !== null && have !== null && String(want) === String(have))) return;
  if (isQuantityPath(path) && sameQuantity(want, have)) return;
  out.push(joinPointer(path));
}

/** JSON pointers (into the desired object) whose live value differs; [] when in sync. */
export function diffObject(desired: KubeObject, live: unknown, patches: readonly ComparePatch[] = []): string[] {
  const matching = patchesFor(desired, patches);
  const want = comparable(desired);
  const have = comparable(live);
  for (const p of matching) {
    for (const op of p.operations ?? []) {
      applyOperation(want, op);
      applyOperation(have, op);
    }
  }
  const ignored = matching.flatMap((p) => p.jsonPointers ?? []);
  const out: string[] = [];
  compare(want, have, [], out);
  return out.filter((f) => !ignored.some((ig) => isUnder(f, ig))).slice(0, FLEET_AGENT_LIMITS.MAX_DIFF_FIELDS_PER_OBJECT);
}
