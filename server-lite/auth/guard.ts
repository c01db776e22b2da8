// Authentication and authorisation at the edge of every user-facing route: who is calling
// (principal.ts) and whether their global role allows the endpoint. The principal is remembered
// per request so the audit hook in server.ts can name the caller of any call, allowed or not.
import type { IncomingMessage } from 'node:http';
import { ServerError } from '../errors.ts';
import type { ServerContext } from '../context.ts';
import { principalOf, type Principal } from './principal.ts';

const seen = new WeakMap<IncomingMessage, Principal>();

/** The principal resolved for this request, if any (audit). */
export function principalSeen(req: IncomingMessage): Principal | undefined {
  return seen.get(req);
}

export function rememberPrincipal(req: IncomingMessage, p: Principal): void {
  seen.set(req, p);
}

export async function authenticateUser(ctx: ServerContext, req: IncomingMessage): Promise<Principal> {
  try {
    const p = await principalOf(req, { store: ctx.store, adminTokenHash: ctx.adminTokenHash, now: ctx.clock.now(), ...(ctx.providers ? { providers: ctx.providers } : {}) });
    seen.set(req, p);
    return p;
  } catch (err) {
    req.resume();
    throw err;
  }
}

/** Admin endpoints: unauthenticated callers get ADMIN_TOKEN_INVALID (issue 4's contract), users FORBIDDEN. */
export async function requireAdmin(ctx: ServerContext, req: IncomingMessage): Promise<Principal> {
  let p: Principal;
  try {
    p = await authenticateUser(ctx, req);
  } catch (err) {
    if (err instanceof ServerError && err.code === 'UNAUTHENTICATED') throw new ServerError('ADMIN_TOKEN_INVALID');
    throw err;
  }
  if (p.globalRole !== 'admin') {
    req.resume();
    throw new ServerError('FORBIDDEN', `user ${p.user} has the global role ${p.globalRole}; this endpoint needs admin`);
  }
  return p;
}

/** Admins may act on anyone; a user only on themself. */
export function requireSelfOrAdmin(p: Principal, userName: string): void {
  if (p.globalRole !== 'admin' && p.user !== userName) {
    throw new ServerError('FORBIDDEN', `user ${p.user} may act only on their own account, not ${userName}`);
  }
}
