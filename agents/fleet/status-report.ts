// What `drover agent status` shows for the fleet role, from SQLite alone (works with the server
// and the apiserver both away): per deployment its bundle, last state, revisions and when it was
// last applied, plus the outbox length. Field names follow ARCHITECTURE.md §3 (`bundles`, `outbox`).
import type { FleetStore } from './store.ts';
import type { DeploymentState } from './types.ts';

export interface FleetBundleStatus {
  name: string;
  deploymentId: string;
  state: DeploymentState | 'Pending';
  /** The desired revision stored (and acknowledged). */
  revision: string;
  appliedRevision: string | undefined;
  appliedAt: string | undefined;
  message: string;
}

export interface FleetStatusReport {
  bundles: FleetBundleStatus[];
  outbox: number;
  /** Statuses coalesced away while the outbox was full. */
  outboxCoalesced: number;
}

export function fleetStatusReport(store: FleetStore): FleetStatusReport {
  const latest = new Map(store.latestStatuses().map((s) => [s.deploymentId, s]));
  const bundles = store.deployments().map((d): FleetBundleStatus => {
    const s = latest.get(d.id);
    const applied = store.applied(d.id);
    // A status about an older revision says nothing about this one yet.
    const current = s !== undefined && s.revision === d.revision;
    return {
      name: d.bundle,
      deploymentId: d.id,
      state: current ? s.state : 'Pending',
      revision: d.revision,
      appliedRevision: applied.revision,
      appliedAt: applied.appliedAt,
      message: current ? s.message : 'not reconciled yet',
    };
  });
  return { bundles, outbox: store.outbox.length(), outboxCoalesced: store.outbox.coalesced() };
}
