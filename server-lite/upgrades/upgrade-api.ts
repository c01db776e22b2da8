// The releases and agent upgrades HTTP API (issue 16, docs/api.md, ARCHITECTURE.md §4):
//   GET  /v1/releases                                  list
//   POST /v1/releases/:version/:artifact              import one executable (body: its bytes;
//        X-Drover-Sums: base64 of the signed sha256sums, X-Drover-Signature: sha256sums.sig)
//   DELETE /v1/releases/:version                      delete every architecture of a release
//   POST /v1/upgrades  {version, target?, maxUnavailable?, canary?}   start a rollout
//   GET  /v1/upgrades                                  the latest rollout's status
// Admin only; audited like every `/v1/…` call. Refusals answer {"error":{"code","message"}}.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { requireAdmin } from '../auth/guard.ts';
import { readJson, sendJson } from '../http/body.ts';
import type { Route } from '../http/router.ts';
import type { ServerContext } from '../context.ts';
import { ReleaseApiError } from './errors.ts';
import type { UpgradeService } from './upgrade-service.ts';

const startBody = z.strictObject({
  version: z.string().min(1).max(80),
  target: z.string().max(4096).optional(),
  maxUnavailable: z.string().max(16).optional(),
  canary: z.int().min(0).max(1_000_000).optional(),
});

/** Admins only; a PlanError/ReleaseApiError thrown inside is answered by the router (errors.ts isRegistryError). */
function guarded(handle: Route['handle']): Route['handle'] {
  return async (ctx, req, res, params) => {
    await requireAdmin(ctx, req);
    await handle(ctx, req, res, params);
  };
}

export function upgradeRoutes(upgrades: UpgradeService): Route[] {
  return [
    {
      method: 'GET', pattern: /^\/v1\/releases$/, name: '/v1/releases',
      handle: guarded(async (_ctx, _req, res) => sendJson(res, 200, await upgrades.releases.list())),
    },
    {
      method: 'POST', pattern: /^\/v1\/releases\/([^/]+)\/([^/]+)$/, name: '/v1/releases/:version/:artifact',
      handle: guarded(async (_ctx, req, res, [version = '', artifact = '']) => {
        sendJson(res, 201, await upgrades.releases.import(req, decodeURIComponent(version), decodeURIComponent(artifact)));
      }),
    },
    {
      method: 'DELETE', pattern: /^\/v1\/releases\/([^/]+)$/, name: '/v1/releases/:version',
      handle: guarded(async (_ctx, _req, res, [version = '']) => {
        sendJson(res, 200, await upgrades.releases.delete(decodeURIComponent(version)));
      }),
    },
    {
      method: 'POST', pattern: /^\/v1\/upgrades$/, name: '/v1/upgrades',
      handle: guarded(async (_ctx, req, res) => {
        const body = await readJson(req, startBody);
        sendJson(res, 201, await upgrades.start(body));
      }),
    },
    {
      method: 'GET', pattern: /^\/v1\/upgrades$/, name: '/v1/upgrades',
      handle: guarded(async (_ctx, _req, res) => sendJson(res, 200, await upgrades.status())),
    },
  ];
}
