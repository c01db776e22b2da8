// Impersonation through the Kubernetes proxy (pure; decision 0802). `kubectl --as/--as-group`
// send Impersonate-User / Impersonate-Group. The agent impersonates the caller itself, and
// Kubernetes does not chain impersonation, so the server decides: a global admin may act as a
// Drover user (`NAME` or `drover:user:NAME`), optionally restricted to some of the Drover groups;
// the request then runs with that user's identity and roles (so `auth can-i` gives the user's
// answers) and the audit row names both. Anyone else, and anything that is not a Drover user or
// group, gets 403 IMPERSONATION_FORBIDDEN with a message: never a silent drop.
import { ServerError } from '../errors.ts';
import { CLUSTER_ROLES, GLOBAL_ROLES } from '../store/store.ts';
import {
  AUTHENTICATED_GROUP,
  checkImpersonationRequest,
  clusterGroup,
  globalGroup,
  readImpersonation,
  type ImpersonationHeaders,
  type ImpersonationTarget,
} from '../../protocol/index.ts';

// The rule itself is shared with the cluster agent's local endpoint (protocol/kube-identity.ts).
export { readImpersonation };
export type { ImpersonationHeaders, ImpersonationTarget };

/** Every Drover group: the only groups an admin may impersonate (also sent to local endpoints). */
export const DROVER_GROUPS: ReadonlySet<string> = new Set<string>([
  AUTHENTICATED_GROUP,
  ...GLOBAL_ROLES.map(globalGroup),
  ...CLUSTER_ROLES.map(clusterGroup),
]);

/**
 * Checks an impersonation request by `callerUser` (global role `callerRole`); throws
 * IMPERSONATION_FORBIDDEN with the reason. The caller then looks the user up.
 */
export function checkImpersonation(callerUser: string, callerRole: string, h: ImpersonationHeaders): ImpersonationTarget {
  const r = checkImpersonationRequest(callerUser, callerRole, h, DROVER_GROUPS);
  if (!r.ok) throw new ServerError('IMPERSONATION_FORBIDDEN', r.message);
  return r.target;
}
