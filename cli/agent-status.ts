// Reads `drover agent status` from the data dir: open the store (never creating it), load the
// identity and role rows, build the contract shape. No network.
import { AgentStore } from '../agents/common/store.ts';
import { buildStatus, pidAlive, type AgentStatus } from '../agents/common/status.ts';
import { createFleetStore } from '../agents/fleet/store.ts';
import { fleetStatusReport } from '../agents/fleet/status-report.ts';

export function readStatus(dataDir: string, agentVersion: string): AgentStatus {
  const store = AgentStore.open(dataDir, { create: false });
  try {
    const id = store.requireIdentity(dataDir);
    const status = buildStatus(id, store.roleStates(), agentVersion, pidAlive);
    // The fleet tables exist once the fleet role has run; before that there is nothing to list.
    const hasFleet = store.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'fleet_migrations'").get() !== undefined;
    if (hasFleet) {
      const fleet = fleetStatusReport(createFleetStore(store.db));
      status.bundles = fleet.bundles.map((b) => ({ name: b.name, state: b.state, revision: b.revision, appliedAt: b.appliedAt ?? null, appliedRevision: b.appliedRevision ?? null, message: b.message }));
      status.outbox = fleet.outbox;
    }
    return status;
  } finally {
    store.close();
  }
}
