// Who may open a shell on which node (issue 15; pure): global admins on every node, cluster owners
// on the nodes of their clusters. A member or read-only user is refused with a message naming the
// role they have and the one they need; someone with no role on the node's cluster cannot see the
// node at all (404, like the Kubernetes proxy: ids cannot be probed).
import type { ClusterRole, GlobalRole } from '../store/store.ts';

export type ShellDecision = { allowed: true } | { allowed: false; status: 403 | 404; message: string };

export function shellDecision(who: { user: string; globalRole: GlobalRole }, node: { id: string; clusterId: string }, roles: readonly ClusterRole[]): ShellDecision {
  if (who.globalRole === 'admin' || roles.includes('cluster-owner')) return { allowed: true };
  if (roles.length === 0) return { allowed: false, status: 404, message: `no node ${node.id} that you may see` };
  return {
    allowed: false,
    status: 403,
    message: `user ${who.user} has the role ${[...roles].sort().join(', ')} on cluster ${node.clusterId}; drover shell needs cluster-owner on that cluster or the global admin role`,
  };
}
