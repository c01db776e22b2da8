// `/v1/groupbindings` (issue 18; docs/api.md): cluster roles held by the members of an identity
// provider's group, named `PROVIDER:GROUP`. Admins only. A change kicks RBAC propagation for the
// cluster; the members are expanded into the cluster's bindings by the store (listBindings).
import { z } from 'zod';
import { ServerError } from '../errors.ts';
import { readJson, sendJson, sendNoContent } from '../http/body.ts';
import type { Route } from '../http/router.ts';
import { requireAdmin } from '../auth/guard.ts';
import { CLUSTER_ROLES } from '../store/store.ts';

/** `PROVIDER:GROUP`: the provider part as provider names are, the group as the provider spells it. */
export const groupName = z.string().max(300).regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?:[^\s:][^\n\r]{0,255}$/, 'PROVIDER:GROUP, e.g. corp:ops');

const iso = (ms: number): string => new Date(ms).toISOString();

export const groupBindingRoutes: readonly Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/groupbindings$/,
    name: '/v1/groupbindings',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      sendJson(res, 200, (await ctx.store.listGroupBindings()).map((b) => ({ ...b, createdAt: iso(b.createdAt) })));
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/groupbindings$/,
    name: '/v1/groupbindings',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      const body = await readJson(req, z.object({ group: groupName, clusterId: z.string().min(1).max(64), role: z.enum(CLUSTER_ROLES) }).strict());
      if (!(await ctx.store.getCluster(body.clusterId))) throw new ServerError('CLUSTER_NOT_FOUND', `no cluster ${body.clusterId} (see drover cluster list)`);
      const created = await ctx.store.bindGroup({ ...body, createdAt: ctx.clock.now() });
      ctx.rbac.kick(body.clusterId);
      ctx.log.info({ group: body.group, clusterId: body.clusterId, role: body.role, created }, 'group role bound');
      sendJson(res, created ? 201 : 200, { ...body, created });
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/groupbindings\/([^/]+)\/([^/]+)\/([^/]+)$/,
    name: '/v1/groupbindings/:group/:cluster/:role',
    async handle(ctx, req, res, [group = '', clusterId = '', role = '']) {
      await requireAdmin(ctx, req);
      const g = decodeURIComponent(group);
      const r = z.enum(CLUSTER_ROLES).safeParse(role);
      if (!r.success || !(await ctx.store.unbindGroup(g, clusterId, r.data))) {
        throw new ServerError('GROUP_BINDING_NOT_FOUND', `group ${g.slice(0, 300)} holds no role ${role.slice(0, 40)} on cluster ${clusterId.slice(0, 64)}`);
      }
      ctx.rbac.kick(clusterId);
      sendNoContent(res);
    },
  },
];
