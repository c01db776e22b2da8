// `/v1/auth/providers` (ARCHITECTURE.md §4; docs/api.md "Identity providers"): admins add, list,
// read and remove providers; anyone may log in through one. LDAP: POST …/NAME/login with user
// name and password. OIDC: POST …/NAME/authorize with the redirect URI (the CLI's loopback
// listener, or the web UI's callback) gives the provider's URL for the browser; POST …/NAME/token
// with the state and code the browser brought back gives a Drover token. Secrets arrive in
// request bodies only (never in URLs) and never leave in answers.
import { z } from 'zod';
import type { ServerContext } from '../../context.ts';
import { ServerError } from '../../errors.ts';
import { readJson, sendJson, sendNoContent } from '../../http/body.ts';
import type { Route } from '../../http/router.ts';
import { rememberPrincipal, requireAdmin } from '../guard.ts';
import { providerName } from './provider-config.ts';
import type { ProviderService } from './provider-service.ts';

const ttlSeconds = z.int().min(0).max(10 * 365 * 24 * 3600);
/** Where the provider sends the browser back: a loopback http:// listener (CLI) or an https:// page (web UI). */
const redirectUri = z
  .string()
  .max(1024)
  .regex(/^(http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?\/|https:\/\/)[^\s#]*$/, 'http://127.0.0.1:PORT/… (loopback) or https://…');

function service(ctx: ServerContext): ProviderService {
  if (!ctx.providers) throw new ServerError('NOT_FOUND', 'identity providers are not enabled on this server');
  return ctx.providers;
}

function nameParam(raw: string): string {
  const r = providerName.safeParse(decodeURIComponent(raw));
  if (!r.success) throw new ServerError('PROVIDER_NOT_FOUND', `no identity provider ${raw.slice(0, 64)}`);
  return r.data;
}

export const providerRoutes: readonly Route[] = [
  {
    // Unauthenticated: what a login page (CLI, web UI) may offer. Names and kinds only.
    method: 'GET',
    pattern: /^\/v1\/auth\/login-options$/,
    name: '/v1/auth/login-options',
    async handle(ctx, _req, res) {
      const providers = ctx.providers ? await ctx.providers.list() : [];
      sendJson(res, 200, { local: true, providers: providers.map((p) => ({ name: p.name, kind: p.kind })) });
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/auth\/providers$/,
    name: '/v1/auth/providers',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      sendJson(res, 200, await service(ctx).list());
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/auth\/providers$/,
    name: '/v1/auth/providers',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      const body = await readJson(req, z.object({ name: providerName, config: z.record(z.string(), z.unknown()), secret: z.string().max(4096) }).strict());
      sendJson(res, 201, await service(ctx).add(body.name, body.config, body.secret));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/auth\/providers\/([^/]+)$/,
    name: '/v1/auth/providers/:name',
    async handle(ctx, req, res, [name = '']) {
      await requireAdmin(ctx, req);
      sendJson(res, 200, await service(ctx).get(nameParam(name)));
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/auth\/providers\/([^/]+)$/,
    name: '/v1/auth/providers/:name',
    async handle(ctx, req, res, [name = '']) {
      await requireAdmin(ctx, req);
      await service(ctx).remove(nameParam(name));
      sendNoContent(res);
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/auth\/providers\/([^/]+)\/login$/,
    name: '/v1/auth/providers/:name/login',
    async handle(ctx, req, res, [raw = '']) {
      const name = nameParam(raw);
      const body = await readJson(req, z.object({ username: z.string().max(256), password: z.string().max(1024), ttlSeconds: ttlSeconds.optional() }).strict());
      // Audited under the name tried, so repeated failures for one account stand out.
      rememberPrincipal(req, { user: `${name}:${body.username.slice(0, 64)}`, idp: 'ldap', provider: name, globalRole: 'user', tokenId: null });
      sendJson(res, 201, await service(ctx).ldapLogin(name, body.username, body.password, body.ttlSeconds));
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/auth\/providers\/([^/]+)\/authorize$/,
    name: '/v1/auth/providers/:name/authorize',
    async handle(ctx, req, res, [raw = '']) {
      const body = await readJson(req, z.object({ redirectUri }).strict());
      sendJson(res, 200, await service(ctx).oidcStart(nameParam(raw), body.redirectUri));
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/auth\/providers\/([^/]+)\/token$/,
    name: '/v1/auth/providers/:name/token',
    async handle(ctx, req, res, [raw = '']) {
      const name = nameParam(raw);
      const body = await readJson(req, z.object({ state: z.string().min(1).max(256), code: z.string().min(1).max(4096), ttlSeconds: ttlSeconds.optional() }).strict());
      rememberPrincipal(req, { user: `${name}:?`, idp: 'oidc', provider: name, globalRole: 'user', tokenId: null });
      const minted = await service(ctx).oidcFinish(name, body.state, body.code, body.ttlSeconds);
      rememberPrincipal(req, { user: minted.user, idp: 'oidc', provider: name, globalRole: 'user', tokenId: null });
      sendJson(res, 201, minted);
    },
  },
];
