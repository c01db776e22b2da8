// OIDC login for the web dashboard (server-lite/ui/): the two calls a login page needs, over the
// same provider service the CLI uses (docs/identity.md "Web login"). The page calls
// `startWebLogin` with its callback URL (registered at the provider, e.g. https://SERVER/ui/callback)
// and redirects the browser to `authorizationUrl`; the provider sends the browser back to the
// callback with `code` and `state`, and the page calls `finishWebLogin` with both. State, nonce
// and PKCE verifier never leave the server; the answer is a Drover API token for the user.
import type { ServerContext } from '../../context.ts';
import { ServerError } from '../../errors.ts';
import type { Minted } from './provider-service.ts';

export interface WebLoginStart {
  /** Where to send the browser (302). */
  authorizationUrl: string;
  /** Comes back as ?state=…; the page may keep it in a cookie to check it is its own login. */
  state: string;
}

function providers(ctx: ServerContext) {
  if (!ctx.providers) throw new ServerError('NOT_FOUND', 'identity providers are not enabled on this server');
  return ctx.providers;
}

/** Starts an authorization-code + PKCE login at OIDC provider `provider`; 503 when it is down. */
export function startWebLogin(ctx: ServerContext, provider: string, callbackUrl: string): Promise<WebLoginStart> {
  if (!/^https:\/\//.test(callbackUrl) && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(callbackUrl)) {
    return Promise.reject(new ServerError('INVALID_REQUEST', 'the callback URL must be https:// (or loopback http:// in development)'));
  }
  return providers(ctx).oidcStart(provider, callbackUrl);
}

/**
 * Finishes it with the `code` and `state` of the callback: a Drover token for the user, or a
 * ServerError (LOGIN_FAILED for an unknown/used state or a refused code, PROVIDER_MISCONFIGURED,
 * PROVIDER_UNAVAILABLE). `ttlSeconds`: the token's lifetime (default 30 days; a UI session may ask less).
 */
export function finishWebLogin(ctx: ServerContext, provider: string, params: { code: string; state: string }, ttlSeconds?: number): Promise<Minted> {
  return providers(ctx).oidcFinish(provider, params.state, params.code, ttlSeconds);
}
