// The fleet role's part of `drover cluster delete`: every deployment this agent holds is removed
// as the server would remove it — its objects pruned through the same journal, or orphaned when
// the delete keeps workloads (keepResources) — until nothing is left, then the outbox is emptied
// (there is no cluster left to report to). Nothing here talks to the server.
import type { FleetAgent } from './fleet-agent.ts';
import { FleetAgentError } from './errors.ts';

/** Passes tried before giving up (an apiserver away for longer: the agent retries the clean-up later). */
const MAX_PASSES = 5;

export async function cleanUpFleetSite(agent: FleetAgent, opts: { keepWorkloads: boolean }): Promise<{ deployments: number }> {
  const held = agent.store.deployments();
  for (const d of held) {
    // Stored with keepResources first, so the removal orphans instead of pruning.
    if (opts.keepWorkloads && d.options.keepResources !== true) agent.store.acceptDesired({ ...d, options: { ...d.options, keepResources: true } });
    agent.store.removeDesired(d.id);
  }
  for (let pass = 0; pass < MAX_PASSES && agent.store.removedDeployments().length > 0; pass++) await agent.reconcileNow();
  const left = agent.store.removedDeployments();
  if (left.length > 0) {
    throw new FleetAgentError('KUBE_UNREACHABLE', `could not remove ${left.length} deployment(s) from the cluster yet (${left.map((d) => d.bundle).slice(0, 3).join(', ')}); retrying`);
  }
  const outbox = agent.store.outbox;
  for (let rows = outbox.peek(1000); rows.length > 0; rows = outbox.peek(1000)) outbox.ack(rows.at(-1)!.seq);
  return { deployments: held.length };
}
