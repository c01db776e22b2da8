// Dashboard sign-in through the server's identity providers (issue 18 + 20): OIDC by the
// authorization code + PKCE flow (auth/providers/web-login.ts), LDAP by the login form posting
// user name and password with `provider=NAME`. The OIDC state is also kept in a short-lived cookie
// of this browser and must come back with the callback, so nobody can finish their own login in a
// victim's browser (login CSRF). The session cookie is SameSite=Strict and the callback arrives by
// a navigation from the provider's site, so the callback answers with a page that continues to the
// dashboard from our own site instead of a redirect (a cross-site redirect chain would not carry
// the new cookie).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerError } from '../errors.ts';
import { finishWebLogin, startWebLogin } from '../auth/providers/web-login.ts';
import type { ServerContext } from '../context.ts';
import { html } from './html.ts';
import { parseCookies, sessionCookie, SESSION_TTL_SECONDS } from './session-cookie.ts';

const STATE_COOKIE = '__Host-drover-sso';
const STATE_TTL_SECONDS = 600;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface LoginOption {
  name: string;
  kind: 'oidc' | 'ldap';
}

/** The providers a login page offers (names and kinds only). */
export async function loginOptions(ctx: ServerContext): Promise<LoginOption[]> {
  if (!ctx.providers) return [];
  return (await ctx.providers.list()).flatMap((p) => (p.kind === 'oidc' || p.kind === 'ldap' ? [{ name: p.name, kind: p.kind }] : []));
}

/** The callback URL registered at the provider for this server: https://HOST/ui/login/callback/NAME. */
export function callbackUrl(req: IncomingMessage, provider: string): string {
  const host = req.headers.host ?? '';
  if (!/^[A-Za-z0-9.:[\]-]{1,255}$/.test(host)) throw new ServerError('INVALID_REQUEST', 'the request has no usable Host header');
  return `https://${host}/ui/login/callback/${provider}`;
}

/** GET /ui/login/sso/NAME: to the provider, with the state remembered in this browser. */
export async function startSso(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, provider: string): Promise<void> {
  if (!NAME.test(provider)) throw new ServerError('PROVIDER_NOT_FOUND', 'no identity provider of that name');
  const { authorizationUrl, state } = await startWebLogin(ctx, provider, callbackUrl(req, provider));
  res.writeHead(303, {
    location: authorizationUrl,
    'set-cookie': `${STATE_COOKIE}=${state}; Path=/; Max-Age=${STATE_TTL_SECONDS}; HttpOnly; Secure; SameSite=Lax`,
    'cache-control': 'no-store',
  });
  res.end();
}

/**
 * GET /ui/login/callback/NAME?code=…&state=…: the bearer of a new session for the user, with the
 * page that continues to `next`. Throws LOGIN_FAILED when the state is not this browser's.
 */
export async function finishSso(ctx: ServerContext, req: IncomingMessage, url: URL, provider: string): Promise<{ headers: Record<string, string | string[]>; body: string }> {
  const state = url.searchParams.get('state') ?? '';
  const code = url.searchParams.get('code') ?? '';
  const error = url.searchParams.get('error');
  if (error !== null) throw new ServerError('LOGIN_FAILED', `the identity provider refused the login: ${error.slice(0, 100)}`);
  if (!NAME.test(provider) || state === '' || code === '') throw new ServerError('LOGIN_FAILED', 'the callback lacks its code or state');
  if (parseCookies(req.headers.cookie).get(STATE_COOKIE) !== state) {
    throw new ServerError('LOGIN_FAILED', 'this sign-in was not started in this browser; start again from the sign-in page');
  }
  const minted = await finishWebLogin(ctx, provider, { code, state }, SESSION_TTL_SECONDS);
  const body = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed in</title>
<meta http-equiv="refresh" content="0;url=/ui/clusters"></head>
<body><p>Signed in as ${minted.user}. <a href="/ui/clusters">Continue to the dashboard</a>.</p></body></html>`;
  return {
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'set-cookie': [sessionCookie(minted.token, SESSION_TTL_SECONDS), `${STATE_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax`],
    },
    body: String(body),
  };
}

/** The LDAP half of the login form: a session token for a directory user, or LOGIN_FAILED. */
export async function ldapSession(ctx: ServerContext, provider: string, username: string, password: string): Promise<string> {
  if (!ctx.providers || !NAME.test(provider)) throw new ServerError('LOGIN_FAILED');
  return (await ctx.providers.ldapLogin(provider, username, password, SESSION_TTL_SECONDS)).token;
}
