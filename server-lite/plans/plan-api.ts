// The plans HTTP API (docs/api.md, ARCHITECTURE.md §3/§4): `/v1/plans` (apply, list, status,
// pause/resume/cancel) and `/v1/nodes/:id` (a node with the plans it has run). Admin only; every
// call is audited by the server's API audit like any other `/v1/…` call. A refused plan answers
// 400 with PLAN_INVALID or PLAN_OPTIONS_INVALID and stores nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { requireAdmin } from '../auth/guard.ts';
import { readBody, sendJson } from '../http/body.ts';
import { jsonDepth } from '../http/json-depth.ts';
import type { Route } from '../http/router.ts';
import type { ServerContext } from '../context.ts';
import { ServerError } from '../errors.ts';
import { indexBy, nodeView } from '../views.ts';
import { PLAN_LIMITS } from '../../protocol/index.ts';
import { PlanError } from './errors.ts';
import type { PlanService } from './plan-service.ts';

const PLAN_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,62}[A-Za-z0-9])?$/;

const applyBody = z.strictObject({
  name: z.string().regex(PLAN_NAME, 'a name of letters, digits, "-", "_" and "." (at most 64)'),
  document: z.unknown(),
  target: z.string().min(1).max(4096),
  concurrency: z.string().max(16).optional(),
  maxFailures: z.int().min(0).max(1_000_000).optional(),
  window: z.string().max(128).optional(),
});

/** Admins only; a PlanError/ReleaseApiError thrown inside is answered by the router (errors.ts isRegistryError). */
function guarded(handle: Route['handle']): Route['handle'] {
  return async (ctx, req, res, params) => {
    await requireAdmin(ctx, req);
    await handle(ctx, req, res, params);
  };
}

async function readApply(req: IncomingMessage): Promise<z.infer<typeof applyBody>> {
  const text = (await readBody(req, PLAN_LIMITS.maxPlanBytes * 2)).toString('utf8');
  if (jsonDepth(text, 64) > 64) throw new PlanError('PLAN_INVALID', 'the plan is nested deeper than 64 levels');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ServerError('INVALID_JSON', `the request body is not valid JSON: ${(err as Error).message}`);
  }
  const r = applyBody.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new PlanError('PLAN_OPTIONS_INVALID', `${i?.path.join('.') || 'body'}: ${i?.message ?? 'invalid'}`);
  }
  if (r.data.document === undefined) throw new PlanError('PLAN_INVALID', 'document: the plan is missing');
  return r.data;
}

export function planRoutes(plans: PlanService): Route[] {
  return [
    {
      method: 'POST', pattern: /^\/v1\/plans$/, name: '/v1/plans',
      handle: guarded(async (_ctx, req, res) => {
        sendJson(res, 201, await plans.apply(await readApply(req)));
      }),
    },
    {
      method: 'GET', pattern: /^\/v1\/plans$/, name: '/v1/plans',
      handle: guarded(async (_ctx, _req, res) => sendJson(res, 200, await plans.list())),
    },
    {
      method: 'GET', pattern: /^\/v1\/plans\/([^/]+)$/, name: '/v1/plans/:name',
      handle: guarded(async (_ctx, _req, res, [name = '']) => sendJson(res, 200, await plans.status(name))),
    },
    {
      method: 'POST', pattern: /^\/v1\/plans\/([^/]+)\/(pause|resume|cancel)$/, name: '/v1/plans/:name/:action',
      handle: guarded(async (_ctx, req, res, [name = '', action = '']) => {
        req.resume();
        await plans.control(name, action as 'pause' | 'resume' | 'cancel');
        sendJson(res, 200, await plans.status(name));
      }),
    },
    {
      method: 'GET', pattern: /^\/v1\/nodes\/([^/]+)$/, name: '/v1/nodes/:id',
      handle: guarded(async (ctx, _req, res, [id = '']) => {
        const node = (await ctx.store.listNodes()).find((n) => n.id === id || n.name === id);
        if (!node) throw new PlanError('NODE_NOT_FOUND', `no node ${id} (see drover node list)`);
        const agents = indexBy(await ctx.store.listAgents(), 'nodeId').get(node.id) ?? [];
        const online = (await plans.online()).has(node.id);
        sendJson(res, 200, {
          ...nodeView(ctx, node, agents),
          nodeAgent: online ? 'connected' : 'disconnected',
          utcOffsetMinutes: (await plans.clocks()).get(node.id) ?? null,
          plans: (await plans.store.nodePlans(node.id)).map((p) => ({ name: p.plan, assigned: p.assigned, state: p.state, checksum: p.checksum, source: p.source, instruction: p.instruction, exitCode: p.exitCode, message: p.message, since: p.since, steps: p.steps })),
        });
      }),
    },
  ];
}
