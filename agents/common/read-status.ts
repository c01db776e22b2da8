// Reads `drover agent status` from the data dir: open the store (never creating it), load the
// identity and role rows, build the contract shape. No network.
import { AgentStore } from './store.ts';
import { buildStatus, pidAlive, type AgentStatus } from './status.ts';

export function readStatus(dataDir: string, agentVersion: string): AgentStatus {
  const store = AgentStore.open(dataDir, { create: false });
  try {
    const id = store.requireIdentity(dataDir);
    return buildStatus(id, store.roleStates(), agentVersion, pidAlive);
  } finally {
    store.close();
  }
}
