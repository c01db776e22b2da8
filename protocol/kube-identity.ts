// Who a Drover caller is on a Kubernetes cluster, decided the same way wherever a request enters:
// the server's proxy (server-lite/proxy) and the cluster agent's local endpoint (agents/cluster,
// issue 18). Pure: the names Drover users and groups take on the cluster, the Impersonate-* headers a
// request asks for, and the rule for them (decision 0802): only a global admin may act as a Drover
// user, optionally restricted to some Drover groups; everything else is refused with a reason.

/** Kubernetes user name of a Drover user (prefixed, so no Drover name can pose as a Kubernetes one). */
export const KUBE_USER_PREFIX = 'drover:user:';
export const AUTHENTICATED_GROUP = 'drover:authenticated';
export const kubeUser = (name: string): string => `${KUBE_USER_PREFIX}${name}`;
export const globalGroup = (role: string): string => `drover:global:${role}`;
export const clusterGroup = (role: string): string => `drover:cluster:${role}`;

/** The Kubernetes identity a request runs as: Impersonate-User and Impersonate-Group. */
export interface KubeIdentity {
  user: string;
  groups: string[];
}

/** The identity of Drover user `name` (global role, roles on this cluster), as the proxy sends it. */
export function kubeIdentityOf(name: string, globalRole: string, clusterRoles: readonly string[]): KubeIdentity {
  // A role held twice (directly and through an identity provider's group) is one group.
  return { user: kubeUser(name), groups: [AUTHENTICATED_GROUP, globalGroup(globalRole), ...[...new Set(clusterRoles)].map(clusterGroup)] };
}

export interface ImpersonationHeaders {
  user: string | undefined;
  groups: string[];
  /** Impersonate-Uid and Impersonate-Extra-* header names: not supported through Drover. */
  unsupported: string[];
}

/** The impersonation a request asks for (Node's `headersDistinct`), or undefined when none. */
export function readImpersonation(req: { headersDistinct: Record<string, string[] | undefined> }): ImpersonationHeaders | undefined {
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

export interface ImpersonationTarget {
  /** The Drover user name to act as. */
  user: string;
  /** When --as-group was given: exactly these Drover groups (plus drover:authenticated). */
  groups: string[] | undefined;
}

export type ImpersonationCheck = { ok: true; target: ImpersonationTarget } | { ok: false; message: string };

/**
 * Checks an impersonation request by `callerUser` (global role `callerRole`). `droverGroups`: the
 * groups that may be impersonated (every Drover group; the server's role lists decide them).
 */
export function checkImpersonationRequest(
  callerUser: string,
  callerRole: string,
  h: ImpersonationHeaders,
  droverGroups: ReadonlySet<string>,
): ImpersonationCheck {
  const refuse = (message: string): ImpersonationCheck => ({ ok: false, message });
  if (callerRole !== 'admin') {
    return refuse(`user ${callerUser} may not impersonate (--as/--as-group): only global admins may act as another Drover user`);
  }
  if (h.unsupported.length > 0) return refuse(`impersonation through Drover supports --as and --as-group only, not ${h.unsupported.join(', ')}`);
  if (h.user === undefined || h.user === '') return refuse('--as-group needs --as USER (Kubernetes impersonates groups only together with a user)');
  const user = h.user.startsWith(KUBE_USER_PREFIX) ? h.user.slice(KUBE_USER_PREFIX.length) : h.user;
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/i.test(user)) {
    return refuse(`--as ${h.user.slice(0, 80)}: only Drover users can be impersonated through Drover (NAME or drover:user:NAME)`);
  }
  if (h.groups.length === 0) return { ok: true, target: { user, groups: undefined } };
  const unknown = h.groups.filter((g) => !droverGroups.has(g));
  if (unknown.length > 0) {
    return refuse(`--as-group ${unknown.map((g) => g.slice(0, 80)).join(', ')}: only Drover groups can be impersonated (${[...droverGroups].join(', ')})`);
  }
  return { ok: true, target: { user, groups: [...new Set([AUTHENTICATED_GROUP, ...h.groups])] } };
}

/** Kubernetes' verb for a request: get, list, watch, create, update, patch, delete, deletecollection. */
export function kubeVerb(method: string, pathWithQuery: string): string {
  const [path = '/', query = ''] = pathWithQuery.split('?', 2);
  const params = new URLSearchParams(query);
  let segs = path.split('/').filter(Boolean);
  if (segs[0] === 'api' && segs.length >= 2) segs = segs.slice(2);
  else if (segs[0] === 'apis' && segs.length >= 3) segs = segs.slice(3);
  else return method.toLowerCase();
  if (segs[0] === 'namespaces' && segs.length >= 3) segs = segs.slice(2);
  const collection = segs.length === 1;
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD': {
      const watch = params.get('watch');
      if (watch === 'true' || watch === '1') return 'watch';
      return collection ? 'list' : 'get';
    }
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return collection ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}
