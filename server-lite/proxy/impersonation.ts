// Impersonation through the Kubernetes proxy (pure; decision 0802). `kubectl --as/--as-group`
// send Impersonate-User / Impersonate-Group. The agent impersonates the caller itself, and
// Kubernetes does not chain impersonation, so the server decides: a global admin may act as a
// Drover user (`NAME` or `drover:user:NAME`), optionally restricted to some of the Drover groups;
// the request then runs with that user's identity and roles (so `auth can-i` gives the user's
// answers) and the audit row names both. Anyone else, and anything that is not a Drover user or
// group, gets 403 IMPERSONATION_FORBIDDEN with a message: never a silent drop.
import type { IncomingMessage } from 'node:http';
import { ServerError } from '../errors.ts';
import { CLUSTER_ROLES, GLOBAL_ROLES } from '../store/store.ts';

export interface ImpersonationHeaders {
  user: string | undefined;
  groups: string[];
  /** Impersonate-Uid and Impersonate-Extra-* header names: not supported through the proxy. */
  unsupported: string[];
}

/** The impersonation a request asks for, or undefined when it asks for none. */
export function readImpersonation(req: Pick<IncomingMessage, 'headersDistinct'>): ImpersonationHeaders | undefined {
  let user: string | undefined;
  const groups: string[] = [];
  const unsupported: string[] = [];
  let any = false;
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    const n = name.toLowerCase();
    if (!n.startsWith('impersonate-') || values === undefined) continue;
    any = true;
    if (n === 'impersonate-user') {
      if (values.length !== 1) unsupported.push('Impersonate-User (more than one)');
      user = values[0];
    } else if (n === 'impersonate-group') groups.push(...values);
    else unsupported.push(name);
  }
  return any ? { user, groups, unsupported } : undefined;
}

const USER_PREFIX = 'drover:user:';
const DROVER_GROUPS = new Set<string>([
  'drover:authenticated',
  ...GLOBAL_ROLES.map((r) => `drover:global:${r}`),
  ...CLUSTER_ROLES.map((r) => `drover:cluster:${r}`),
]);

export interface ImpersonationTarget {
  /** The Drover user name to act as. */
  user: string;
  /** When --as-group was given: exactly these Drover groups (plus drover:authenticated). */
  groups: string[] | undefined;
}

const refuse = (message: string): ServerError => new ServerError('IMPERSONATION_FORBIDDEN', message);

/**
 * Checks an impersonation request by `callerUser` (global role `callerRole`); throws
 * IMPERSONATION_FORBIDDEN with the reason. The caller then looks the user up.
 */
export function checkImpersonation(callerUser: string, callerRole: string, h: ImpersonationHeaders): ImpersonationTarget {
  if (callerRole !== 'admin') {
    throw refuse(`user ${callerUser} may not impersonate (--as/--as-group): only global admins may act as another Drover user`);
  }
  if (h.unsupported.length > 0) throw refuse(`impersonation through Drover supports --as and --as-group only, not ${h.unsupported.join(', ')}`);
  if (h.user === undefined || h.user === '') throw refuse('--as-group needs --as USER (Kubernetes impersonates groups only together with a user)');
  const user = h.user.startsWith(USER_PREFIX) ? h.user.slice(USER_PREFIX.length) : h.user;
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/i.test(user)) {
    throw refuse(`--as ${h.user.slice(0, 80)}: only Drover users can be impersonated through Drover (NAME or drover:user:NAME)`);
  }
  if (h.groups.length === 0) return { user, groups: undefined };
  const unknown = h.groups.filter((g) => !DROVER_GROUPS.has(g));
  if (unknown.length > 0) {
    throw refuse(`--as-group ${unknown.map((g) => g.slice(0, 80)).join(', ')}: only Drover groups can be impersonated (${[...DROVER_GROUPS].join(', ')})`);
  }
  return { user, groups: [...new Set(['drover:authenticated', ...h.groups])] };
}
