// The dashboard's session: an HttpOnly, Secure, SameSite=Strict cookie holding a bearer the API
// also accepts (a user API token minted at login, a pasted API token, or the admin token), so the
// dashboard authenticates exactly as the API does (auth/principal.ts) and a revoked or expired
// token ends the session. CSRF tokens are an HMAC of that bearer under a server-held key: bound to
// the session, stateless, and useless to a page that cannot read the HttpOnly cookie.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** `__Host-`: browsers accept it only with Secure, Path=/ and no Domain (no subdomain can set it). */
export const SESSION_COOKIE = '__Host-drover-ui';
/** Dashboard logins last this long (the minted API token's lifetime). */
export const SESSION_TTL_SECONDS = 12 * 3600;
/** The description of API tokens minted by a dashboard login (logout revokes only those). */
export const LOGIN_TOKEN_DESCRIPTION = 'dashboard login';

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined) return out;
  for (const piece of header.split(';')) {
    const part = piece.trim();
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    // The first occurrence wins, as RFC 6265 orders the more specific cookie first.
    if (!out.has(name) && value.length <= 4096) out.set(name, value);
  }
  return out;
}

export function sessionCookie(bearer: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(bearer)}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
}

export function sessionBearer(cookieHeader: string | undefined): string | undefined {
  const v = parseCookies(cookieHeader).get(SESSION_COOKIE);
  if (v === undefined || v === '') return undefined;
  try {
    return decodeURIComponent(v);
  } catch {
    return undefined;
  }
}

/** The CSRF token of a session: HMAC-SHA256(key, bearer), base64url. */
export function csrfToken(key: string, bearer: string): string {
  return createHmac('sha256', key).update(`drover-ui-csrf\0${bearer}`).digest('base64url');
}

export function csrfValid(key: string, bearer: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const want = Buffer.from(csrfToken(key, bearer));
  const got = Buffer.from(presented);
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * A state-changing request must come from our own pages: an Origin (or, failing that, Referer)
 * naming another host is refused even before the CSRF token is checked. Browsers send Origin on
 * every POST; tools that send neither still need the token.
 */
export function sameOrigin(headers: { origin?: string | undefined; referer?: string | undefined; host?: string | undefined }): boolean {
  const from = headers.origin ?? headers.referer;
  if (from === undefined) return true;
  try {
    return new URL(from).host === headers.host;
  } catch {
    return false;
  }
}
