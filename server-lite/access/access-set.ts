// The access set of one cluster's local endpoint (pure; issue 18): who may use it — every user with
// a role on the cluster (or a project role there: the proxy shows them the cluster too) and every global admin, with the hashes of their API tokens that are neither
// revoked nor expired, and the built-in admin token — and the Kubernetes identity the server's proxy
// would give each of them (protocol/kube-identity.ts: the same rule on both paths). Tokens travel
// only as the sha256 the server stores anyway; the revision names the set so an unchanged one is not
// pushed again.
import { createHash } from 'node:crypto';
import { kubeIdentityOf, type AccessSet, type AccessToken, type AccessUser, type EndpointSettings } from '../../protocol/index.ts';
import { BUILTIN_ADMIN } from '../auth/principal.ts';
import type { RoleBinding, UserRecord, UserTokenRecord } from '../store/store.ts';

export interface AccessInputs {
  users: readonly UserRecord[];
  /** Bindings on this cluster. */
  bindings: readonly RoleBinding[];
  /** Users with a project role on this cluster (their RoleBindings name them; no cluster group). */
  projectUsers?: readonly string[];
  tokens: readonly UserTokenRecord[];
  adminTokenHash: string;
  /** Users of identity providers: their provider's kind and name (everyone else is `local`). */
  external?: ReadonlyMap<string, { idp: string; provider: string }>;
  droverGroups: Iterable<string>;
  endpoint: EndpointSettings | null;
  now: number;
}

export function buildAccessSet(i: AccessInputs): AccessSet {
  if (!i.endpoint) return withRevision({ endpoint: null, users: [], tokens: [], droverGroups: [] });
  const rolesOf = new Map<string, string[]>();
  for (const b of i.bindings) rolesOf.set(b.userName, [...(rolesOf.get(b.userName) ?? []), b.role]);
  const inProject = new Set(i.projectUsers ?? []);
  const users: AccessUser[] = [];
  for (const u of [...i.users].sort((a, b) => a.name.localeCompare(b.name))) {
    const roles = (rolesOf.get(u.name) ?? []).sort();
    if (u.globalRole !== 'admin' && roles.length === 0 && !inProject.has(u.name)) continue;
    users.push({ name: u.name, globalRole: u.globalRole, identity: kubeIdentityOf(u.name, u.globalRole, roles) });
  }
  users.push({ name: BUILTIN_ADMIN, globalRole: 'admin', identity: kubeIdentityOf(BUILTIN_ADMIN, 'admin', []) });
  const allowed = new Set(users.map((u) => u.name));
  const tokens: AccessToken[] = i.tokens
    .filter((t) => allowed.has(t.userName) && t.revokedAt === null && (t.expiresAt === null || t.expiresAt > i.now))
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((t) => {
      const ext = i.external?.get(t.userName);
      return { id: t.id, secretHash: t.secretHash, user: t.userName, idp: ext?.idp ?? 'local', ...(ext ? { provider: ext.provider } : {}), expiresAt: t.expiresAt };
    });
  tokens.push({ id: 'admin-token', secretHash: i.adminTokenHash, user: BUILTIN_ADMIN, idp: 'admin-token', expiresAt: null });
  return withRevision({ endpoint: i.endpoint, users, tokens, droverGroups: [...i.droverGroups].sort() });
}

function withRevision(s: Omit<AccessSet, 'revision'>): AccessSet {
  return { revision: createHash('sha256').update(JSON.stringify(s)).digest('hex').slice(0, 32), ...s };
}
