// `/v1/server/ca` and `/v1/server/url` (issue 18, docs/api.md; admin only): start a CA rotation
// (`drover server rotate-ca`), change the server URL agents use (`drover server set-url`), and see
// how far either has reached the agents.
import { z } from 'zod';
import { ServerError } from '../errors.ts';
import { requireAdmin } from '../auth/guard.ts';
import { readJson, sendJson } from '../http/body.ts';
import type { Route } from '../http/router.ts';
import type { ServerContext } from '../context.ts';
import { checkServerUrl, readServerUrlChange, writeServerUrlChange } from './server-url.ts';
import { currentSettings } from './agent-settings-sync.ts';

const MAX_OVERLAP_S = 365 * 24 * 3600;
const rotateSchema = z.object({ overlapSeconds: z.int().min(0).max(MAX_OVERLAP_S).optional() }).strict();
const urlSchema = z.object({ url: z.string().min(1).max(300), keepOldSeconds: z.int().min(0).max(MAX_OVERLAP_S).optional() }).strict();

/** Default overlap of a CA rotation and of a URL change: a day, so agents online daily pick it up. */
export const DEFAULT_OVERLAP_SECONDS = 24 * 3600;

function services(ctx: ServerContext) {
  if (!ctx.serverTls || !ctx.agentSettings) throw new ServerError('INTERNAL', 'CA rotation and URL changes are not available on this server');
  return { tls: ctx.serverTls, settings: ctx.agentSettings };
}

function caView(ctx: ServerContext) {
  const { tls, settings } = services(ctx);
  const r = tls.rotation();
  return {
    caHash: ctx.tls.caHash,
    rotation: r ? { nextCaHash: r.nextCaHash, startedAt: new Date(r.startedAt).toISOString(), switchAt: new Date(r.switchAt).toISOString() } : null,
    agentsUpdated: settings.acknowledged().length,
  };
}

function urlView(ctx: ServerContext) {
  const change = readServerUrlChange(ctx.dataDir);
  return {
    url: change?.url ?? null,
    keepOldUntil: change?.keepOldUntil ? new Date(change.keepOldUntil).toISOString() : null,
    revision: currentSettings(ctx.dataDir)?.revision ?? null,
    agentsUpdated: services(ctx).settings.acknowledged().length,
  };
}

export const serverAdminRoutes: readonly Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/server\/ca$/,
    name: '/v1/server/ca',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      sendJson(res, 200, caView(ctx));
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/server\/ca\/rotate$/,
    name: '/v1/server/ca/rotate',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      const body = await readJson(req, rotateSchema, { emptyAsObject: true });
      const { tls, settings } = services(ctx);
      const pending = tls.rotation();
      if (pending) {
        throw new ServerError('INVALID_REQUEST', `a CA rotation is already in progress (new CA sha256 ${pending.nextCaHash}, switch at ${new Date(pending.switchAt).toISOString()})`);
      }
      tls.startRotation((body.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS) * 1000);
      settings.kick();
      sendJson(res, 200, caView(ctx));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/server\/url$/,
    name: '/v1/server/url',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      sendJson(res, 200, urlView(ctx));
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/server\/url$/,
    name: '/v1/server/url',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      const body = await readJson(req, urlSchema);
      const checked = checkServerUrl(body.url);
      if (typeof checked === 'string') throw new ServerError('INVALID_REQUEST', checked);
      const now = ctx.clock.now();
      const keep = body.keepOldSeconds ?? DEFAULT_OVERLAP_SECONDS;
      const { tls, settings } = services(ctx);
      // The new name first, so the certificate vouches for it before any agent dials it.
      tls.addNames([checked.host]);
      writeServerUrlChange(ctx.dataDir, { url: checked.url, keepOldUntil: keep > 0 ? now + keep * 1000 : null, changedAt: now });
      settings.kick();
      sendJson(res, 200, urlView(ctx));
    },
  },
];
