// The delivery plan for one fleet agent (decision 0750): from the cluster's deployment rows and
// what the agent holds, the steps that bring the agent to what the server wants. Pure; the loop in
// fleet-sync.ts carries the steps out over the tunnel, in order.
import { heldKeyOf, revisionOfHeldKey, type DeliveryOptions } from './delivery-options.ts';

/** A deployment row of the cluster, as delivery reads it. */
export interface DeliveryRow { bundle: string; desiredRevision: string | null; ackedRevision: string | null }

export type DeliveryStep =
  /** Unassigned and the agent holds it: remove it there, then forget the row. */
  | { kind: 'remove'; bundle: string }
  /** Unassigned and the agent does not hold it: forget the row. */
  | { kind: 'forget'; bundle: string }
  /** The agent holds exactly this, but the acknowledgement is not stored yet. */
  | { kind: 'ack'; bundle: string; revision: string }
  /** Send this revision with these options; `heldRevision` is the base for a delta. */
  | { kind: 'send'; bundle: string; revision: string; key: string; options: Record<string, unknown>; heldRevision?: string }
  /** The agent holds a deployment the server never assigned it (deleted while offline). */
  | { kind: 'orphan'; bundle: string };

export interface DeliveryInputs {
  rows: readonly DeliveryRow[];
  /** deploymentId → held key (delivery-options.ts heldKey). */
  held: ReadonlyMap<string, string>;
  /** The options for a bundle on this cluster (given the bundles assigned to it). */
  optionsOf(bundle: string, assigned: readonly string[]): DeliveryOptions;
  /** Whether the agent refused this bundle with this key on this session (not offered again). */
  refused(bundle: string, key: string): boolean;
}

export function planDelivery(input: DeliveryInputs): DeliveryStep[] {
  const { rows, held } = input;
  const steps: DeliveryStep[] = [];
  let assigned: string[] | undefined;
  for (const d of rows) {
    if (d.desiredRevision === null) {
      steps.push({ kind: held.has(d.bundle) ? 'remove' : 'forget', bundle: d.bundle });
      continue;
    }
    assigned ??= rows.filter((r) => r.desiredRevision !== null).map((r) => r.bundle);
    const opts = input.optionsOf(d.bundle, assigned);
    const key = heldKeyOf(d.desiredRevision, opts.json);
    const holds = held.get(d.bundle);
    if (holds === key) {
      if (d.ackedRevision !== d.desiredRevision) steps.push({ kind: 'ack', bundle: d.bundle, revision: d.desiredRevision });
      continue;
    }
    if (input.refused(d.bundle, key)) continue;
    steps.push({ kind: 'send', bundle: d.bundle, revision: d.desiredRevision, key, options: opts.options, ...(holds === undefined ? {} : { heldRevision: revisionOfHeldKey(holds) }) });
  }
  const known = new Set(rows.map((d) => d.bundle));
  for (const id of held.keys()) if (!known.has(id)) steps.push({ kind: 'orphan', bundle: id });
  return steps;
}
