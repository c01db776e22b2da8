// Which tunnel serves a cluster's Kubernetes API through the proxy (issue 15): its cluster agent
// when connected; otherwise, as the fallback path, one of its node agents, which serves the same
// `http:kube-apiserver` target with the cluster agent's own proxy code (same impersonation, so the
// cluster's RBAC decides exactly as before). Node agents that reported they can reach the
// kube-apiserver (fact `node.kubeApiFallback=available`) are preferred, the newest tunnel first.
import type { ServerContext } from '../context.ts';
import type { SessionHandle } from '../tunnel/session-registry.ts';

export type KubePathName = 'cluster-agent' | 'node-agent';

export interface KubePath {
  via: KubePathName;
  session: SessionHandle;
}

/** The node fact saying whether a node agent can serve the fallback path (agents/node/facts-provider.ts). */
export const FALLBACK_FACT = 'node.kubeApiFallback';

function canServe(facts: Record<string, unknown> | undefined): boolean | undefined {
  const extras = facts?.extras;
  if (extras === null || typeof extras !== 'object') return undefined;
  const v = (extras as Record<string, unknown>)[FALLBACK_FACT];
  return v === undefined ? undefined : v === 'available';
}

/** Pure choice among a cluster's node-role sessions: reported able first, then unknown, newest first; never those that said they cannot. */
export function pickNodeSession<S extends { agentId: string; since: number }>(sessions: readonly S[], able: (agentId: string) => boolean | undefined): S | undefined {
  const rank = (s: S): number => (able(s.agentId) === true ? 2 : able(s.agentId) === undefined ? 1 : 0);
  return [...sessions].filter((s) => rank(s) > 0).sort((a, b) => rank(b) - rank(a) || b.since - a.since)[0];
}

export async function kubePath(ctx: Pick<ServerContext, 'sessions' | 'store' | 'ha'>, clusterId: string): Promise<KubePath | undefined> {
  const main = ctx.sessions.clusterSession(clusterId);
  if (main?.openStream) return { via: 'cluster-agent', session: main };
  // HA (issue 17): the cluster agent's tunnel sits on another replica; streams are forwarded there.
  const remote = await ctx.ha?.clusterSession(clusterId);
  if (remote) return { via: 'cluster-agent', session: remote };
  // Only while the cluster agent is down: a scan of the node-role sessions is cheap next to that.
  const nodes = ctx.sessions.byRole('node').filter((s) => s.clusterId === clusterId && s.openStream);
  if (nodes.length === 0) return remoteNodePath(ctx, clusterId);
  const facts = new Map((await ctx.store.listAgents({ clusterId })).map((a) => [a.id, a.facts]));
  const session = pickNodeSession(nodes, (agentId) => canServe(facts.get(agentId)));
  return session ? { via: 'node-agent', session } : undefined;
}

/** HA (issue 17): no node agent of the cluster here; the newest one on another replica, unless it said it cannot serve. */
async function remoteNodePath(ctx: Pick<ServerContext, 'store' | 'ha'>, clusterId: string): Promise<KubePath | undefined> {
  const remote = await ctx.ha?.clusterSession(clusterId, 'node');
  if (!remote) return undefined;
  const agent = (await ctx.store.listAgents({ clusterId })).find((a) => a.id === remote.agentId);
  return canServe(agent?.facts) === false ? undefined : { via: 'node-agent', session: remote };
}

/** For `drover cluster get`: which path serves the cluster's Kubernetes API right now. */
export async function kubeAccessView(ctx: Pick<ServerContext, 'sessions' | 'store' | 'ha'>, clusterId: string) {
  const p = await kubePath(ctx, clusterId);
  return p ? { path: p.via, agentId: p.session.agentId, nodeId: p.session.nodeId } : { path: 'none' as const, agentId: null, nodeId: null };
}
