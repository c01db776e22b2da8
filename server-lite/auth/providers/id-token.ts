// OpenID Connect ID token verification (pure: keys, expectations and the time are passed in).
// OIDC Core §3.1.3.7: the signature with a key of the provider's JWKS (RS256 or ES256 only: `none`
// and HMAC never, so a token cannot be signed with a public key or not at all), `iss` equal to the
// issuer, our client id in `aud` (and `azp` when there are several audiences), `exp` in the future
// and `iat` not in the future (60 s of skew), and the nonce we sent. Sizes are bounded before any
// parsing: the token, the groups claim and each group name (issue 18: oversized tokens and claims
// are refused). Own code on node:crypto rather than a JOSE library: decision 0961.
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

export const ID_TOKEN_LIMITS = Object.freeze({
  /** Bytes of the compact token; Dex's are about 1 KiB, Azure's with many groups ~8 KiB. */
  tokenBytes: 16 * 1024,
  groups: 256,
  groupChars: 256,
  usernameChars: 256,
  skewSeconds: 60,
});

export type IdTokenProblem =
  | 'too-large'
  | 'malformed'
  | 'algorithm'
  | 'unknown-key'
  | 'signature'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'issued-in-future'
  | 'nonce'
  | 'claim';

export class IdTokenError extends Error {
  readonly problem: IdTokenProblem;
  constructor(problem: IdTokenProblem, message: string) {
    super(message);
    this.name = 'IdTokenError';
    this.problem = problem;
  }
}

export interface Jwk extends JsonWebKey {
  kid?: string;
  alg?: string;
  use?: string;
}

export interface IdTokenExpectations {
  issuer: string;
  clientId: string;
  /** The nonce sent in the authorization request; undefined only for refreshes (OIDC Core §12.2). */
  nonce: string | undefined;
  nowMs: number;
}

export type Claims = Record<string, unknown>;

const ALGORITHMS: Record<string, { hash: 'sha256'; kty: string; dsaEncoding?: 'ieee-p1363' }> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  ES256: { hash: 'sha256', kty: 'EC', dsaEncoding: 'ieee-p1363' },
};

function part<T>(b64: string, what: string): T {
  try {
    const v: unknown = JSON.parse(Buffer.from(b64, 'base64url').toString('utf8'));
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as T;
  } catch {
    throw new IdTokenError('malformed', `the ID token's ${what} is not a JSON object`);
  }
}

function keyFor(jwks: readonly Jwk[], kid: string | undefined, kty: string): KeyObject {
  const candidates = jwks.filter((k) => k.kty === kty && (k.use === undefined || k.use === 'sig') && (kid === undefined || k.kid === kid));
  const jwk = candidates[0];
  if (!jwk || (kid === undefined && candidates.length > 1)) throw new IdTokenError('unknown-key', `no signing key${kid ? ` ${kid.slice(0, 64)}` : ''} in the provider's JWKS`);
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new IdTokenError('unknown-key', 'the provider published a key that cannot be read');
  }
}

/** Verifies a compact ID token; returns its claims or throws IdTokenError. */
export function verifyIdToken(token: string, jwks: readonly Jwk[], want: IdTokenExpectations): Claims {
  if (Buffer.byteLength(token) > ID_TOKEN_LIMITS.tokenBytes) throw new IdTokenError('too-large', `the ID token is larger than ${ID_TOKEN_LIMITS.tokenBytes} bytes`);
  const pieces = token.split('.');
  if (pieces.length !== 3 || pieces.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw new IdTokenError('malformed', 'the ID token is not a compact JWS');
  const [h = '', p = '', s = ''] = pieces;
  const header = part<{ alg?: unknown; kid?: unknown; crit?: unknown }>(h, 'header');
  const alg = typeof header.alg === 'string' ? ALGORITHMS[header.alg] : undefined;
  if (!alg) throw new IdTokenError('algorithm', `ID token algorithm ${String(header.alg).slice(0, 20)} is not accepted (RS256, ES256)`);
  if (header.crit !== undefined) throw new IdTokenError('malformed', 'the ID token has critical header parameters we do not understand');
  const key = keyFor(jwks, typeof header.kid === 'string' ? header.kid : undefined, alg.kty);
  const signed = Buffer.from(`${h}.${p}`);
  const ok = verify(alg.hash, signed, alg.dsaEncoding ? { key, dsaEncoding: alg.dsaEncoding } : key, Buffer.from(s, 'base64url'));
  if (!ok) throw new IdTokenError('signature', "the ID token's signature does not verify with the provider's key");
  const claims = part<Claims>(p, 'payload');
  if (claims.iss !== want.issuer) throw new IdTokenError('issuer', `the ID token was issued by ${String(claims.iss).slice(0, 200)}, not ${want.issuer}`);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(want.clientId)) throw new IdTokenError('audience', `the ID token is not meant for client ${want.clientId}`);
  if (aud.length > 1 && claims.azp !== want.clientId) throw new IdTokenError('audience', `the ID token names several audiences and its azp is not ${want.clientId}`);
  const now = want.nowMs / 1000;
  if (typeof claims.exp !== 'number' || claims.exp + ID_TOKEN_LIMITS.skewSeconds <= now) throw new IdTokenError('expired', 'the ID token has expired');
  if (typeof claims.iat === 'number' && claims.iat - ID_TOKEN_LIMITS.skewSeconds > now) throw new IdTokenError('issued-in-future', 'the ID token was issued in the future');
  if (want.nonce !== undefined && claims.nonce !== want.nonce) throw new IdTokenError('nonce', 'the ID token does not carry the nonce of this login');
  if (typeof claims.sub !== 'string' || claims.sub === '' || claims.sub.length > 255) throw new IdTokenError('claim', 'the ID token has no usable sub claim');
  return claims;
}

/** A string claim (the user name), bounded. */
export function stringClaim(claims: Claims, name: string): string {
  const v = claims[name];
  if (typeof v !== 'string' || v === '') throw new IdTokenError('claim', `the ID token has no ${name} claim (check the provider's --username-claim)`);
  if (v.length > ID_TOKEN_LIMITS.usernameChars) throw new IdTokenError('claim', `the ID token's ${name} claim is longer than ${ID_TOKEN_LIMITS.usernameChars} characters`);
  return v;
}

/** The groups claim: absent means none; anything but a bounded list of bounded strings is refused. */
export function groupsClaim(claims: Claims, name: string): string[] {
  const v = claims[name];
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((g): g is string => typeof g === 'string')) throw new IdTokenError('claim', `the ID token's ${name} claim is not a list of strings`);
  if (v.length > ID_TOKEN_LIMITS.groups) throw new IdTokenError('claim', `the ID token names ${v.length} groups; at most ${ID_TOKEN_LIMITS.groups} are accepted`);
  if (v.some((g) => g.length === 0 || g.length > ID_TOKEN_LIMITS.groupChars)) throw new IdTokenError('claim', `a group in the ID token's ${name} claim is empty or longer than ${ID_TOKEN_LIMITS.groupChars} characters`);
  return [...new Set(v)].sort();
}
