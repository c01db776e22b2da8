// JSON shapes the REST API returns (docs/api.md). Times leave as ISO-8601 strings; states are
// computed here, at read time, from lastSeen, live sessions and the clock.
import { healthState, latest, type HealthState } from './health.ts';
import type { ServerContext } from './context.ts';
import type { AgentLiveness, AgentRecord, ClusterRecord, Labels, NodeRecord, Role, TokenRecord } from './store/store.ts';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export interface ClusterView {
  id: string;
  name: string;
  labels: Labels;
  state: HealthState;
  lastSeen: string | null;
  kubernetesVersion: string | null;
  createdAt: string;
  nodeCount: number;
}

/** Groups agents by a key once, so listings stay linear with 10k clusters. */
export function indexBy<A extends AgentLiveness>(agents: readonly A[], key: 'clusterId' | 'nodeId'): Map<string, A[]> {
  const out = new Map<string, A[]>();
  for (const a of agents) {
    const list = out.get(a[key]);
    if (list) list.push(a);
    else out.set(a[key], [a]);
  }
  return out;
}

/** A tunnel here, or (HA, issue 17) on another live replica. */
function hasTunnel(ctx: ServerContext, agentId: string): boolean {
  return ctx.sessions.hasAgent(agentId) || ctx.ha?.routes.remoteSeen(agentId) !== undefined;
}

/** lastSeen here or in the store, or (HA) the heartbeat of the replica holding the agent's tunnel. */
function seenAt(ctx: ServerContext, a: AgentLiveness): number | null {
  return latest([ctx.lastSeen.merge(a.id, a.lastSeen), ctx.ha?.routes.remoteSeen(a.id) ?? null]);
}

/** `agents`: the agents of this cluster (see indexBy). */
export function clusterView(ctx: ServerContext, c: ClusterRecord, agents: readonly AgentLiveness[]): ClusterView {
  const live = agents.filter((a) => a.clusterId === c.id && a.removedAt === null);
  const lastSeen = latest(live.map((a) => seenAt(ctx, a)));
  const hasSession = live.some((a) => a.revokedAt === null && hasTunnel(ctx, a.id));
  return {
    id: c.id,
    name: c.name,
    labels: c.labels,
    state: healthState({ now: ctx.clock.now(), lastSeen, hasSession }, ctx.health),
    lastSeen: iso(lastSeen),
    kubernetesVersion: c.kubernetesVersion,
    createdAt: new Date(c.createdAt).toISOString(),
    nodeCount: new Set(live.map((a) => a.nodeId)).size,
  };
}

export interface NodeView {
  id: string;
  clusterId: string;
  name: string;
  state: HealthState;
  lastSeen: string | null;
  agentId: string | null;
  roles: Role[];
  facts: Record<string, unknown>;
  createdAt: string;
  removedAt: string | null;
}

/** `agents`: the agents of this node (see indexBy). */
export function nodeView(ctx: ServerContext, n: NodeRecord, agents: readonly AgentRecord[]): NodeView {
  const agent = agents.find((a) => a.nodeId === n.id);
  const lastSeen = agent ? seenAt(ctx, agent) : null;
  const hasSession = agent !== undefined && hasTunnel(ctx, agent.id);
  return {
    id: n.id,
    clusterId: n.clusterId,
    name: n.name,
    state: healthState({ now: ctx.clock.now(), lastSeen, hasSession }, ctx.health),
    lastSeen: iso(lastSeen),
    agentId: agent?.id ?? null,
    roles: agent?.roles ?? [],
    facts: n.facts,
    createdAt: new Date(n.createdAt).toISOString(),
    removedAt: iso(n.removedAt),
  };
}

export function agentView(ctx: ServerContext, a: AgentRecord) {
  const lastSeen = seenAt(ctx, a);
  return {
    id: a.id,
    clusterId: a.clusterId,
    nodeId: a.nodeId,
    hostname: a.hostname,
    roles: a.roles,
    state: healthState({ now: ctx.clock.now(), lastSeen, hasSession: hasTunnel(ctx, a.id) }, ctx.health),
    lastSeen: iso(lastSeen),
    credentialExpiresAt: iso(a.credentialExpiresAt),
    revokedAt: iso(a.revokedAt),
    removedAt: iso(a.removedAt),
    facts: a.facts,
    sessions: ctx.sessions.list({ agentId: a.id }).map(sessionView),
  };
}

export function sessionView(s: {
  id: string;
  agentId: string;
  clusterId: string;
  nodeId: string;
  role: Role;
  since: number;
  remoteAddress: string;
  protocol: string;
}) {
  return { ...s, since: new Date(s.since).toISOString() };
}

export type TokenState = 'active' | 'expired' | 'used-up' | 'revoked';

export function tokenState(t: TokenRecord, now: number): TokenState {
  if (t.revokedAt !== null) return 'revoked';
  if (t.expiresAt !== null && t.expiresAt <= now) return 'expired';
  if (t.usesMax !== 0 && t.uses >= t.usesMax) return 'used-up';
  return 'active';
}

export function tokenView(t: TokenRecord, now: number) {
  return {
    id: t.id,
    state: tokenState(t, now),
    createdAt: new Date(t.createdAt).toISOString(),
    expiresAt: iso(t.expiresAt),
    uses: t.uses,
    usesMax: t.usesMax,
    clusterId: t.clusterId,
    labels: t.labels,
    revokedAt: iso(t.revokedAt),
  };
}
