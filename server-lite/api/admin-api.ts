// Admin REST endpoints (docs/api.md), all behind the admin token: join tokens, clusters, nodes,
// agent identities (list, revoke: which also disconnects) and the live session registry.
import { z } from 'zod';
import { ServerError } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import { formatJoinToken, hashSecret, newSecret, newTokenId } from '../secrets.ts';
import { requireAdmin } from '../auth/guard.ts';
import { labelKey, labelValue, labelsSchema } from '../schemas.ts';
import { readJson, sendJson, sendNoContent } from '../http/body.ts';
import type { Route } from '../http/router.ts';
import { kubeAccessView } from '../proxy/kube-fallback.ts';
import type { ServerContext } from '../context.ts';
import { agentView, clusterView, indexBy, nodeView, sessionView, tokenView } from '../views.ts';


export const createTokenSchema = z
  .object({
    /** Lifetime in seconds; 0 = never expires. */
    ttlSeconds: z.int().min(0).max(10 * 365 * 24 * 3600).optional(),
    /** 0 = unlimited. */
    uses: z.int().min(0).max(1_000_000).optional(),
    clusterId: z.string().min(1).max(64).optional(),
    labels: labelsSchema.optional(),
  })
  .strict()
  .refine((b) => !(b.clusterId !== undefined && b.labels !== undefined), 'give clusterId or labels, not both');

const patchClusterSchema = z
  .object({ labels: z.record(labelKey, labelValue.nullable()) })
  .strict();

const deleteClusterSchema = z
  .object({ keepWorkloads: z.boolean().optional(), uninstallAgents: z.boolean().optional() })
  .strict();
/** Creates a join token (POST /v1/tokens, the dashboard's tokens page); the secret leaves only in this answer. */
export async function createJoinToken(ctx: ServerContext, body: z.infer<typeof createTokenSchema>) {
  if (body.clusterId !== undefined && !(await ctx.store.getCluster(body.clusterId))) {
    throw new ServerError('CLUSTER_NOT_FOUND', `no cluster ${body.clusterId} (see drover cluster list)`);
  }
  const now = ctx.clock.now();
  const ttlMs = body.ttlSeconds === undefined ? LIMITS.defaultTokenTtlMs : body.ttlSeconds * 1000;
  const id = newTokenId(ctx.random);
  const secret = newSecret(ctx.random);
  const record = {
    id,
    secretHash: hashSecret(secret),
    createdAt: now,
    expiresAt: ttlMs === 0 ? null : now + ttlMs,
    usesMax: body.uses ?? LIMITS.defaultTokenUses,
    uses: 0,
    clusterId: body.clusterId ?? null,
    labels: body.clusterId === undefined ? (body.labels ?? {}) : {},
    revokedAt: null,
  };
  await ctx.store.createToken(record);
  ctx.log.info({ tokenId: id, clusterId: record.clusterId, usesMax: record.usesMax }, 'join token created');
  return { token: formatJoinToken(ctx.tls.caHash, id, secret), ...tokenView(record, now) };
}

export const admin = (route: Route): Route => ({
  ...route,
  async handle(ctx, req, res, params) {
    await requireAdmin(ctx, req);
    await route.handle(ctx, req, res, params);
  },
});

export const adminRoutes: readonly Route[] = [
  admin({
    method: 'GET',
    pattern: /^\/v1\/tokens$/,
    name: '/v1/tokens',
    async handle(ctx, _req, res) {
      const now = ctx.clock.now();
      sendJson(res, 200, (await ctx.store.listTokens()).map((t) => tokenView(t, now)));
    },
  }),
  admin({
    method: 'POST',
    pattern: /^\/v1\/tokens$/,
    name: '/v1/tokens',
    async handle(ctx, req, res) {
      sendJson(res, 201, await createJoinToken(ctx, await readJson(req, createTokenSchema, { emptyAsObject: true })));
    },
  }),
  admin({
    method: 'DELETE',
    pattern: /^\/v1\/tokens\/([^/]+)$/,
    name: '/v1/tokens/:id',
    async handle(ctx, _req, res, [id = '']) {
      if (!(await ctx.store.revokeToken(id, ctx.clock.now()))) throw new ServerError('TOKEN_NOT_FOUND', `no join token ${id}`);
      ctx.log.info({ tokenId: id }, 'join token revoked');
      sendNoContent(res);
    },
  }),
  admin({
    method: 'GET',
    pattern: /^\/v1\/clusters$/,
    name: '/v1/clusters',
    async handle(ctx, _req, res) {
      const byCluster = indexBy(await ctx.store.listAgents(), 'clusterId');
      sendJson(res, 200, (await ctx.store.listClusters()).map((c) => clusterView(ctx, c, byCluster.get(c.id) ?? [])));
    },
  }),
  admin({
    method: 'GET',
    pattern: /^\/v1\/clusters\/([^/]+)$/,
    name: '/v1/clusters/:id',
    async handle(ctx, _req, res, [id = '']) {
      const cluster = await ctx.store.getCluster(id);
      if (!cluster) throw new ServerError('CLUSTER_NOT_FOUND', `no cluster ${id} (see drover cluster list)`);
      const agents = await ctx.store.listAgents({ clusterId: id });
      const nodes = await ctx.store.listNodes({ clusterId: id });
      // Fresh facts when the cluster is connected (bounded wait); the stored ones otherwise.
      await ctx.kubeFacts.refreshWithin(id, LIMITS.kubeFactsOnReadMs);
      sendJson(res, 200, {
        ...clusterView(ctx, cluster, agents),
        kubernetes: (await ctx.store.getKubeFacts(id)) ?? null,
        kubernetesAccess: await kubeAccessView(ctx, id),
        nodes: nodes.map((n) => nodeView(ctx, n, agents)),
        agents: agents.map((a) => agentView(ctx, a)),
      });
    },
  }),
  admin({
    method: 'PATCH',
    pattern: /^\/v1\/clusters\/([^/]+)$/,
    name: '/v1/clusters/:id',
    async handle(ctx, req, res, [id = '']) {
      const body = await readJson(req, patchClusterSchema);
      const updated = await ctx.store.patchClusterLabels(id, body.labels);
      if (!updated) throw new ServerError('CLUSTER_NOT_FOUND', `no cluster ${id} (see drover cluster list)`);
      ctx.log.info({ clusterId: id, labels: updated.labels }, 'cluster labels changed');
      sendJson(res, 200, clusterView(ctx, updated, await ctx.store.listAgents({ clusterId: id })));
    },
  }),
  {
    method: 'DELETE',
    pattern: /^\/v1\/clusters\/([^/]+)$/,
    name: '/v1/clusters/:id',
    async handle(ctx, req, res, [id = '']) {
      const who = await requireAdmin(ctx, req);
      const body = await readJson(req, deleteClusterSchema, { emptyAsObject: true });
      // The rows go in one transaction, before any session closes: a reconnect is already told
      // CLUSTER_DELETED, and a registration cannot race into the deleted cluster.
      const out = await ctx.store.deleteCluster(id, {
        keepWorkloads: body.keepWorkloads ?? false,
        uninstallAgents: body.uninstallAgents ?? false,
        at: ctx.clock.now(),
        by: who.user,
      });
      if (!out) throw new ServerError('CLUSTER_NOT_FOUND', `no cluster ${id} (see drover cluster list)`);
      const agentIds = out.agents.map((a) => a.agentId);
      for (const s of ctx.clusterSyncs) s.forget(id);
      for (const fn of ctx.onClusterDeleted) fn(id, agentIds);
      // Connected agents hear it now (close 4502) and clean up; offline ones when they next connect.
      const connected = agentIds.filter((a) => ctx.sessions.closeAgent(a, 'deleted') > 0);
      // HA (issue 17): tunnels on other replicas are closed by them.
      for (const a of agentIds) if ((await ctx.ha?.closeElsewhere(a, 'deleted')) && !connected.includes(a)) connected.push(a);
      ctx.log.info({ clusterId: id, agents: agentIds.length, connected: connected.length, ...body }, 'cluster deleted');
      sendJson(res, 200, {
        id,
        keepWorkloads: body.keepWorkloads ?? false,
        uninstallAgents: body.uninstallAgents ?? false,
        agents: out.agents.map((a) => ({ id: a.agentId, roles: a.roles, connected: connected.includes(a.agentId) })),
      });
    },
  },
  admin({
    method: 'GET',
    pattern: /^\/v1\/nodes$/,
    name: '/v1/nodes',
    async handle(ctx, _req, res) {
      const byNode = indexBy(await ctx.store.listAgents(), 'nodeId');
      sendJson(res, 200, (await ctx.store.listNodes()).map((n) => nodeView(ctx, n, byNode.get(n.id) ?? [])));
    },
  }),
  admin({
    method: 'GET',
    pattern: /^\/v1\/agents$/,
    name: '/v1/agents',
    async handle(ctx, _req, res) {
      sendJson(res, 200, (await ctx.store.listAgents()).map((a) => agentView(ctx, a)));
    },
  }),
  admin({
    method: 'POST',
    pattern: /^\/v1\/agents\/([^/]+)\/revoke$/,
    name: '/v1/agents/:id/revoke',
    async handle(ctx, req, res, [id = '']) {
      await readJson(req, z.object({}).strict(), { emptyAsObject: true });
      // Revocation is committed before the sessions close, so a reconnect is already refused.
      if (!(await ctx.store.revokeAgent(id, ctx.clock.now()))) throw new ServerError('AGENT_NOT_FOUND', `no agent ${id}`);
      const closed = ctx.sessions.closeAgent(id, 'revoked');
      // HA (issue 17): tunnels on other replicas are closed by them.
      const replicasClosed = await ctx.ha?.closeElsewhere(id, 'revoked');
      ctx.log.info({ agentId: id, sessionsClosed: closed, ...(replicasClosed === undefined ? {} : { replicasClosed }) }, 'agent credential revoked');
      sendNoContent(res);
    },
  }),
  admin({
    method: 'GET',
    pattern: /^\/v1\/sessions$/,
    name: '/v1/sessions',
    async handle(ctx, _req, res) {
      sendJson(res, 200, ctx.sessions.list().map(sessionView));
    },
  }),
];
