// Who is calling the local endpoint (pure; issue 18): the bearer token checked against the hashes
// the server last synced, its expiry against the agent's own clock (so an expired token is refused
// with the server down), then the Kubernetes identity the server's proxy would use — including the
// proxy's impersonation rule (protocol/kube-identity.ts), so `kubectl --as` answers alike on both
// paths. A token the server revoked disappears at the next sync and is refused from then on.
import { createHash, timingSafeEqual } from 'node:crypto';
import { checkImpersonationRequest, type ImpersonationHeaders, type KubeIdentity } from '../../protocol/index.ts';
import type { AccessSet, AccessToken, AccessUser } from './access-set.ts';

export interface LocalCaller {
  user: string;
  idp: string;
  provider?: string;
  identity: KubeIdentity;
  /** The Drover user an admin acts as (kubectl --as), if any. */
  impersonated?: string;
}

export type LocalAuth = { ok: true; caller: LocalCaller } | { ok: false; status: 401 | 403; message: string };

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function hashMatches(secret: string, hex: string): boolean {
  const want = Buffer.from(hex, 'hex');
  const got = sha256(secret);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Index of a synced set for lookups per request. */
export interface AccessIndex {
  tokens: Map<string, AccessToken>;
  /** Tokens checked by the hash of the whole value (the admin token). */
  whole: AccessToken[];
  users: Map<string, AccessUser>;
  droverGroups: ReadonlySet<string>;
}

export function indexAccess(set: Pick<AccessSet, 'tokens' | 'users' | 'droverGroups'>): AccessIndex {
  const tokens = new Map<string, AccessToken>();
  const whole: AccessToken[] = [];
  for (const t of set.tokens) (t.id.startsWith('t-') ? tokens.set(t.id, t) : whole.push(t));
  return { tokens, whole, users: new Map(set.users.map((u) => [u.name, u])), droverGroups: new Set(set.droverGroups) };
}

function findToken(value: string, index: AccessIndex): AccessToken | undefined {
  const dot = value.indexOf('.');
  if (dot > 0) {
    const t = index.tokens.get(value.slice(0, dot));
    if (t) return hashMatches(value.slice(dot + 1), t.secretHash) ? t : undefined;
  }
  return index.whole.find((t) => hashMatches(value, t.secretHash));
}

/** Authenticates `Authorization: Bearer …` and decides the identity, at `now` (epoch ms). */
export function authenticateLocal(authorization: string | undefined, asked: ImpersonationHeaders | undefined, index: AccessIndex, now: number): LocalAuth {
  const value = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (value === undefined) return { ok: false, status: 401, message: 'an Authorization: Bearer <token> header is required (use the kubeconfig from drover kubeconfig)' };
  const token = findToken(value, index);
  if (!token) return { ok: false, status: 401, message: 'this token is not known to this cluster\'s local endpoint (unknown, revoked, or the user has no role on this cluster)' };
  if (token.expiresAt !== null && token.expiresAt <= now) {
    return { ok: false, status: 401, message: 'this API token has expired; log in again or create a new one' };
  }
  const user = index.users.get(token.user);
  if (!user) return { ok: false, status: 401, message: 'this token\'s user has no role on this cluster' };
  const who = { user: user.name, idp: token.idp, ...(token.provider ? { provider: token.provider } : {}) };
  if (!asked) return { ok: true, caller: { ...who, identity: user.identity } };
  const check = checkImpersonationRequest(user.name, user.globalRole, asked, index.droverGroups);
  if (!check.ok) return { ok: false, status: 403, message: check.message };
  const target = index.users.get(check.target.user);
  if (!target) return { ok: false, status: 403, message: `--as ${check.target.user}: no Drover user of that name with a role on this cluster` };
  const identity = { user: target.identity.user, groups: check.target.groups ?? target.identity.groups };
  return { ok: true, caller: { ...who, identity, impersonated: target.name } };
}
