// Talking to an OpenID Connect provider (issue 18): discovery (the issuer must be the one
// configured, OIDC Discovery §4.3), the JWKS (fetched again once when a token names an unknown
// key: key rotation), the authorization URL with PKCE S256 (RFC 7636), the code exchange and the
// refresh with the client secret (client_secret_basic), and the ID token checks of id-token.ts.
// Discovery and keys are cached per issuer for a few minutes.
import { httpsJson } from './https-json.ts';
import { groupsClaim, IdTokenError, stringClaim, verifyIdToken, type Jwk } from './id-token.ts';
import type { OidcConfig } from './provider-config.ts';
import { ProviderError, type ExternalIdentity } from './provider-error.ts';

export const DISCOVERY_CACHE_MS = 5 * 60_000;

export interface Discovery {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
}

interface Cached {
  at: number;
  discovery: Discovery;
  keys: Jwk[] | undefined;
}

const cache = new Map<string, Cached>();

/** Drops what is cached for an issuer (tests; a provider removed). */
export function forgetIssuer(issuer: string): void {
  cache.delete(issuer);
}

const str = (o: Record<string, unknown>, k: string): string => {
  const v = o[k];
  if (typeof v !== 'string' || v === '') throw new ProviderError('misconfigured', `the provider's discovery document has no ${k}`);
  return v;
};

/** `fresh`: ask the provider now (a login start: a provider that is down shows at once, as a 503). */
export async function discover(cfg: OidcConfig, nowMs: number, fresh = false): Promise<Cached> {
  const hit = cache.get(cfg.issuer);
  if (hit && !fresh && nowMs - hit.at < DISCOVERY_CACHE_MS) return hit;
  const { status, json } = await httpsJson(`${cfg.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { ca: cfg.caPem });
  if (status !== 200 || json === null || typeof json !== 'object') throw new ProviderError('unavailable', `the provider's discovery document answered HTTP ${status}`);
  const doc = json as Record<string, unknown>;
  if (doc.issuer !== cfg.issuer) throw new ProviderError('misconfigured', `the provider calls itself ${String(doc.issuer).slice(0, 200)}, not the configured issuer ${cfg.issuer}`);
  const discovery = { issuer: cfg.issuer, authorizationEndpoint: str(doc, 'authorization_endpoint'), tokenEndpoint: str(doc, 'token_endpoint'), jwksUri: str(doc, 'jwks_uri') };
  const entry: Cached = { at: nowMs, discovery, keys: hit?.discovery.jwksUri === discovery.jwksUri ? hit.keys : undefined };
  cache.set(cfg.issuer, entry);
  return entry;
}

async function keys(cfg: OidcConfig, entry: Cached, fresh: boolean): Promise<Jwk[]> {
  if (entry.keys && !fresh) return entry.keys;
  const { status, json } = await httpsJson(entry.discovery.jwksUri, { ca: cfg.caPem });
  const list = (json as { keys?: unknown } | undefined)?.keys;
  if (status !== 200 || !Array.isArray(list)) throw new ProviderError('unavailable', `the provider's JWKS answered HTTP ${status}`);
  entry.keys = list.filter((k): k is Jwk => k !== null && typeof k === 'object').slice(0, 50);
  return entry.keys;
}

export function authorizationUrl(cfg: OidcConfig, d: Discovery, p: { redirectUri: string; state: string; nonce: string; codeChallenge: string }): string {
  const u = new URL(d.authorizationEndpoint);
  const scopes = [...new Set(['openid', ...cfg.scopes])];
  u.searchParams.set('client_id', cfg.clientId);
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('redirect_uri', p.redirectUri);
  u.searchParams.set('scope', scopes.join(' '));
  u.searchParams.set('state', p.state);
  u.searchParams.set('nonce', p.nonce);
  u.searchParams.set('code_challenge', p.codeChallenge);
  u.searchParams.set('code_challenge_method', 'S256');
  return u.toString();
}

export interface TokenAnswer {
  identity: ExternalIdentity;
  refreshToken: string | undefined;
}

/**
 * A token endpoint call (code or refresh grant); undefined when the grant is refused: invalid_grant,
 * or for a refresh any 400 (Dex answers an unknown or revoked refresh token with invalid_request).
 */
async function tokenCall(cfg: OidcConfig, secret: string, form: Record<string, string>, nonce: string | undefined, nowMs: number): Promise<TokenAnswer | undefined> {
  const entry = await discover(cfg, nowMs);
  const { status, json } = await httpsJson(entry.discovery.tokenEndpoint, { ca: cfg.caPem, method: 'POST', form, basicAuth: [cfg.clientId, secret] });
  const answer = (json ?? {}) as Record<string, unknown>;
  if (status !== 200) {
    const error = typeof answer.error === 'string' ? answer.error.slice(0, 64) : `HTTP ${status}`;
    if (error === 'invalid_client' || status === 401) {
      throw new ProviderError('misconfigured', `the provider refused Drover's client credentials (${error}): check the provider's client id and secret`);
    }
    if (error === 'invalid_grant' || (form.grant_type === 'refresh_token' && status === 400)) return undefined;
    throw new ProviderError(status >= 500 ? 'unavailable' : 'refused', `the provider's token endpoint refused the request (${error})`);
  }
  if (typeof answer.id_token !== 'string') throw new ProviderError('refused', 'the provider answered without an ID token (is the openid scope allowed for this client?)');
  let claims;
  try {
    try {
      claims = verifyIdToken(answer.id_token, await keys(cfg, entry, false), { issuer: cfg.issuer, clientId: cfg.clientId, nonce, nowMs });
    } catch (err) {
      if (!(err instanceof IdTokenError) || err.problem !== 'unknown-key') throw err;
      claims = verifyIdToken(answer.id_token, await keys(cfg, entry, true), { issuer: cfg.issuer, clientId: cfg.clientId, nonce, nowMs });
    }
    const sub = claims.sub as string;
    return {
      identity: { subject: sub, username: stringClaim(claims, cfg.usernameClaim), groups: groupsClaim(claims, cfg.groupsClaim) },
      refreshToken: typeof answer.refresh_token === 'string' && answer.refresh_token.length <= 4096 ? answer.refresh_token : undefined,
    };
  } catch (err) {
    if (err instanceof IdTokenError) throw new ProviderError('refused', `the ID token was refused: ${err.message}`);
    throw err;
  }
}

export function exchangeCode(cfg: OidcConfig, secret: string, p: { code: string; redirectUri: string; verifier: string; nonce: string }, nowMs: number) {
  return tokenCall(cfg, secret, { grant_type: 'authorization_code', code: p.code, redirect_uri: p.redirectUri, code_verifier: p.verifier }, p.nonce, nowMs);
}

export function refresh(cfg: OidcConfig, secret: string, refreshToken: string, nowMs: number) {
  return tokenCall(cfg, secret, { grant_type: 'refresh_token', refresh_token: refreshToken }, undefined, nowMs);
}
