// Who is calling: resolves `Authorization: Bearer …` to a principal. Two kinds of bearer exist:
// the built-in admin token (DIR/admin-token; the user `admin`, identity provider `admin-token`)
// and user API tokens `t-<id>.<secret>` (identity provider `local`), stored as sha256 with expiry
// and revocation. Agent credentials are never principals here.
import type { IncomingMessage } from 'node:http';
import { ServerError } from '../errors.ts';
import { bearer, hashesEqual, hashSecret, randomId, type RandomBytes } from '../secrets.ts';
import type { GlobalRole, Store } from '../store/store.ts';

export interface Principal {
  user: string;
  /** `ldap` and `oidc`: a user of a configured identity provider, named in `provider`. */
  idp: 'admin-token' | 'local' | 'ldap' | 'oidc';
  provider?: string;
  globalRole: GlobalRole;
  /** The API token id used (user tokens only), for audit and `token revoke`. */
  tokenId: string | null;
}

/** The user name the admin token stands for; reserved, so no local user can take it. */
export const BUILTIN_ADMIN = 'admin';

const USER_TOKEN = /^(t-[a-z2-7]{10})\.([a-z2-7]{40})$/;

export const newUserTokenId = (random: RandomBytes): string => `t-${randomId(random, 10)}`;

export function formatUserToken(id: string, secret: string): string {
  return `${id}.${secret}`;
}

export function parseUserToken(value: string): { id: string; secret: string } | undefined {
  const m = USER_TOKEN.exec(value);
  return m?.[1] && m[2] ? { id: m[1], secret: m[2] } : undefined;
}

export interface AuthDeps {
  store: Store;
  adminTokenHash: string;
  now: number;
  /** Users of identity providers: their provider, their groups refreshed when due (issue 18). */
  providers?: { principalFor(userName: string): Promise<{ idp: 'ldap' | 'oidc'; provider: string } | undefined> };
}

/** Resolves a bearer value; throws UNAUTHENTICATED (401) for anything not valid right now. */
export async function principalFor(value: string | undefined, deps: AuthDeps): Promise<Principal> {
  if (value === undefined) throw new ServerError('UNAUTHENTICATED', 'an Authorization: Bearer <token> header is required');
  const parts = parseUserToken(value);
  if (!parts) {
    if (hashesEqual(hashSecret(value), deps.adminTokenHash)) {
      return { user: BUILTIN_ADMIN, idp: 'admin-token', globalRole: 'admin', tokenId: null };
    }
    throw new ServerError('UNAUTHENTICATED');
  }
  const token = await deps.store.getUserToken(parts.id);
  if (!token || !hashesEqual(hashSecret(parts.secret), token.secretHash)) throw new ServerError('UNAUTHENTICATED');
  if (token.revokedAt !== null) throw new ServerError('UNAUTHENTICATED', 'this API token was revoked; create a new one');
  if (token.expiresAt !== null && token.expiresAt <= deps.now) {
    throw new ServerError('UNAUTHENTICATED', 'this API token has expired; log in again or create a new one');
  }
  const user = await deps.store.getUser(token.userName);
  if (!user) throw new ServerError('UNAUTHENTICATED');
  const external = await deps.providers?.principalFor(user.name);
  if (external) return { user: user.name, idp: external.idp, provider: external.provider, globalRole: user.globalRole, tokenId: token.id };
  return { user: user.name, idp: 'local', globalRole: user.globalRole, tokenId: token.id };
}

export function principalOf(req: IncomingMessage, deps: AuthDeps): Promise<Principal> {
  return principalFor(bearer(req.headers.authorization), deps);
}
