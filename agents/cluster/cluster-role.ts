// The cluster role's facts: Kubernetes version and node count of the cluster named by the
// kubeconfig given at registration. Without a kubeconfig the role still tunnels and reports the
// device facts only; a read failure is logged and the facts are simply left out until it works.
import type { Logger } from 'pino';
import type { KubeUpstream } from './kube-upstream.ts';
import type { Facts } from '../common/facts.ts';
import type { Identity } from '../common/store.ts';
import { describeError } from '../common/errors.ts';
import { loadKubeConfig, readClusterFacts } from './cluster-facts.ts';
import { clusterStreamHandler, type StreamHandler } from './stream-router.ts';
import { applyRbacSet } from './rbac-sync.ts';
import type { RoleCleanup } from '../common/cluster-deleted.ts';

export function clusterFactsProvider(ctx: { identity: Identity; logger: Logger }): () => Promise<Partial<Facts>> {
  const path = ctx.identity.kubeconfig;
  if (!path) return async () => ({});
  let kube: KubeUpstream | undefined;
  let lastError: string | undefined;
  return async () => {
    try {
      kube ??= await loadKubeConfig(path);
      const facts = await readClusterFacts(kube);
      lastError = undefined;
      return facts;
    } catch (err) {
      const msg = describeError(err);
      // Log once per distinct failure, not every refresh.
      if (msg !== lastError) ctx.logger.warn({ kubeconfig: path, err: msg }, 'cannot read cluster facts');
      lastError = msg;
      return {};
    }
  };
}

/**
 * The cluster role's stream targets (the Kubernetes proxy, RBAC sync, facts for `cluster get`),
 * served with the kubeconfig given at registration; see stream-router.ts.
 */
export function clusterStreamProvider(ctx: { identity: Identity; logger: Logger; onCleanup?: (fn: RoleCleanup) => void }): StreamHandler {
  const path = ctx.identity.kubeconfig;
  if (path) {
    // Cluster deleted on the server: the RBAC Drover propagated goes (an empty set prunes it all).
    ctx.onCleanup?.(async () => {
      const { deleted } = await applyRbacSet(await loadKubeConfig(path), []);
      ctx.logger.info({ deleted: deleted.length }, "Drover's RBAC removed from the cluster");
    });
  }
  return clusterStreamHandler(path, ctx.logger);
}
