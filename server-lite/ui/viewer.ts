// Who is looking at the dashboard and what they may do, decided with the API's own rules: the
// session bearer resolves through auth/principal.ts (as an Authorization header would), admins
// (global role) see and manage everything, other users see only clusters they hold a role on
// (as the Kubernetes proxy decides visibility) and manage only their own API tokens.
import type { IncomingMessage } from 'node:http';
import type { ServerContext } from '../context.ts';
import { rememberPrincipal } from '../auth/guard.ts';
import { principalFor, type Principal } from '../auth/principal.ts';
import type { ClusterRole } from '../store/store.ts';
import { csrfToken, sessionBearer } from './session-cookie.ts';

export interface Viewer {
  principal: Principal;
  bearer: string;
  csrf: string;
  admin: boolean;
  /** The viewer's role per cluster (empty for admins: they own every cluster). */
  roles: ReadonlyMap<string, ClusterRole>;
}

/** The key CSRF tokens are derived under: secret, stable across restarts, never sent. */
export const csrfKey = (ctx: ServerContext): string => `csrf:${ctx.adminTokenHash}`;

/** The viewer of this request, or undefined when there is no valid session (log in). */
export async function viewerOf(ctx: ServerContext, req: IncomingMessage): Promise<Viewer | undefined> {
  const bearer = sessionBearer(req.headers.cookie);
  if (bearer === undefined) return undefined;
  let principal: Principal;
  try {
    principal = await principalFor(bearer, { store: ctx.store, adminTokenHash: ctx.adminTokenHash, now: ctx.clock.now() });
  } catch {
    return undefined;
  }
  rememberPrincipal(req, principal);
  return viewerFor(ctx, principal, bearer);
}

export async function viewerFor(ctx: ServerContext, principal: Principal, bearer: string): Promise<Viewer> {
  const admin = principal.globalRole === 'admin';
  const roles = new Map<string, ClusterRole>();
  if (!admin) for (const b of await ctx.store.listBindings({ userName: principal.user })) roles.set(b.clusterId, strongest(roles.get(b.clusterId), b.role));
  return { principal, bearer, csrf: csrfToken(csrfKey(ctx), bearer), admin, roles };
}

const RANK: Record<ClusterRole, number> = { 'read-only': 0, 'cluster-member': 1, 'cluster-owner': 2 };
function strongest(a: ClusterRole | undefined, b: ClusterRole): ClusterRole {
  return a === undefined || RANK[b] > RANK[a] ? b : a;
}

export const canSeeCluster = (v: Viewer, clusterId: string): boolean => v.admin || v.roles.has(clusterId);
/** Fleet pages (bundles, git repos), the audit trail and join tokens: admins, as in the API. */
export const canAdminister = (v: Viewer): boolean => v.admin;
export const roleOn = (v: Viewer, clusterId: string): string => (v.admin ? 'admin' : (v.roles.get(clusterId) ?? 'none'));
