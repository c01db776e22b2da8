// The cluster role's facts: Kubernetes version and node count of the cluster named by the
// kubeconfig given at registration. Without a kubeconfig the role still tunnels and reports the
// device facts only; a read failure is logged and the facts are simply left out until it works.
import type { Logger } from 'pino';
import type { Facts } from '../common/facts.ts';
import type { Identity } from '../common/store.ts';
import { describeError } from '../common/errors.ts';
import { loadKubeConfig, readClusterFacts } from './cluster-facts.ts';
import { clusterStreamHandler, type StreamHandler } from './stream-router.ts';
import { createStreamHttpServer } from '../../protocol/index.ts';
import type { RoleContext } from '../common/run-agent.ts';
import { KubeUpstream } from './kube-upstream.ts';
import { openAccessStore } from './access-store.ts';
import { ACCESS_TARGET } from './access-set.ts';
import { accessEndpoint } from './access-endpoint.ts';
import { LocalEndpoint } from './local-endpoint.ts';
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
 * served with the kubeconfig given at registration; see stream-router.ts. With the agent's database
 * (`drover agent run`), also the local endpoint (issue 18): started at once from the last synced
 * access set, so it serves with the server down, and `http:drover-access` for the server's syncs.
 */
export function clusterStreamProvider(
  ctx: { identity: Identity; logger: Logger; onCleanup?: (fn: RoleCleanup) => void } & Partial<Pick<RoleContext, 'db' | 'onStop'>>,
): StreamHandler {
  const path = ctx.identity.kubeconfig;
  // Cluster deleted on the server: the local endpoint stops and forgets its tokens (issue 18), and
  // the RBAC Drover propagated goes (an empty set prunes it all).
  let stopEndpoint: (() => Promise<void>) | undefined;
  ctx.onCleanup?.(async () => {
    await stopEndpoint?.();
    if (!path) return undefined;
    const { deleted } = await applyRbacSet(await loadKubeConfig(path), []);
    ctx.logger.info({ deleted: deleted.length }, "Drover's RBAC removed from the cluster");
    return `removed Drover's RBAC (${deleted.length} object(s))`;
  });
  const router = clusterStreamHandler(path, ctx.logger);
  if (!ctx.db) return router;
  const log = ctx.logger.child({ component: 'local-endpoint' });
  const store = openAccessStore(ctx.db, () => new Date());
  let kube: Promise<KubeUpstream> | undefined;
  const endpoint = new LocalEndpoint({
    store,
    log,
    now: () => Date.now(),
    kube: () => {
      if (!path) return Promise.reject(new Error('this agent was registered without --kubeconfig'));
      kube ??= KubeUpstream.fromKubeconfig(path).catch((err: unknown) => {
        kube = undefined;
        throw err;
      });
      return kube;
    },
  });
  void endpoint.apply(store.load()?.set);
  stopEndpoint = async () => {
    store.save({ revision: 'cluster-deleted', endpoint: null, users: [], tokens: [], droverGroups: [] }, new Date());
    await endpoint.apply(undefined);
    ctx.logger.info('local endpoint stopped and its tokens forgotten (cluster deleted)');
  };
  ctx.onStop?.(async () => {
    await endpoint.close();
    void kube?.then((k) => k.close(), () => undefined);
  });
  const access = createStreamHttpServer({ request: accessEndpoint({ store, endpoint, log, now: () => Date.now() }) });
  return (stream) => {
    if (stream.target !== ACCESS_TARGET) return router(stream);
    stream.on('error', () => {});
    access.serve(stream);
  };
}
