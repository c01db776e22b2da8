// The cluster role's stream targets: `http:kube-apiserver` (the proxy), `http:drover-rbac` (RBAC
// sync), `http:drover-facts` (facts for `cluster get`). Each target is an HTTP server over streams
// (protocol createStreamHttpServer); any other target is refused with STREAM_REFUSED. Without a
// kubeconfig every stream is answered TARGET_UNREACHABLE.
import type { Logger } from 'pino';
import { CLUSTER_AGENT_TARGETS, createStreamHttpServer, KUBE_API_TARGET, type TunnelStream } from '../../protocol/index.ts';
import { KubeUpstream } from './kube-upstream.ts';
import { kubeProxyHandlers } from './kube-proxy.ts';
import { rbacHandler } from './rbac-sync.ts';
import { factsHandler } from './kube-facts.ts';

export const CLUSTER_TARGETS = Object.freeze({ kube: KUBE_API_TARGET, ...CLUSTER_AGENT_TARGETS } as const);

export type StreamHandler = (stream: TunnelStream) => void;

export function clusterStreamHandler(kubeconfig: string | null | undefined, log: Logger): StreamHandler {
  if (!kubeconfig) {
    return (stream) => stream.reset('TARGET_UNREACHABLE', 'this agent was registered without --kubeconfig');
  }
  let servers: Promise<Map<string, ReturnType<typeof createStreamHttpServer>>> | undefined;
  const build = async () => {
    const kube = await KubeUpstream.fromKubeconfig(kubeconfig);
    const proxy = kubeProxyHandlers(kube, log);
    return new Map([
      [CLUSTER_TARGETS.kube, createStreamHttpServer({ request: proxy.request, upgrade: proxy.upgrade })],
      [CLUSTER_TARGETS.rbac, createStreamHttpServer({ request: rbacHandler(kube, log) })],
      [CLUSTER_TARGETS.facts, createStreamHttpServer({ request: factsHandler(kube, log) })],
    ]);
  };
  return (stream) => {
    stream.on('error', () => {});
    servers ??= build();
    servers.then(
      (map) => {
        const server = map.get(stream.target);
        if (server) server.serve(stream);
        else stream.reset('STREAM_REFUSED', `the cluster agent does not serve ${stream.target.slice(0, 64)}`);
      },
      (err: Error) => {
        servers = undefined;
        log.warn({ kubeconfig, err: err.message }, 'cannot load the kubeconfig for proxied requests');
        stream.reset('TARGET_UNREACHABLE', `cannot load the kubeconfig: ${err.message}`.slice(0, 200));
      },
    );
  };
}
