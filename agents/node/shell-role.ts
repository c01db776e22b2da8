// The node role's stream targets for access (issue 15): `drover-shell` (remote shell) and
// `http:kube-apiserver` (the fallback path to the cluster's Kubernetes API while the cluster agent
// is down). The Kubernetes proxy itself is the cluster agent's (agents/cluster/kube-proxy.ts),
// handed in by the caller (cli/), so the node role serves it with the same code and the role
// folders do not import each other. Other node targets (plans) are handed in as `more`.
import type { Logger } from 'pino';
import { KUBE_API_TARGET, NODE_AGENT_TARGETS, type TunnelStream } from '../../protocol/index.ts';
import { serveShell } from './shell-session.ts';

export type StreamServe = (stream: TunnelStream) => void;

export interface NodeAccessDeps {
  /** Serves `http:kube-apiserver` with this node's kubeconfig; absent: this node has none. */
  kube?: StreamServe;
  /** Further targets of the node role, by name. */
  more?: Readonly<Record<string, StreamServe>>;
}

export function nodeAccessStreams(ctx: { logger: Logger }, deps: NodeAccessDeps = {}): StreamServe {
  const log = ctx.logger;
  return (stream) => {
    stream.on('error', () => {});
    if (stream.target === NODE_AGENT_TARGETS.shell) serveShell(stream, log);
    else if (stream.target === KUBE_API_TARGET) {
      if (deps.kube) deps.kube(stream);
      else stream.reset('TARGET_UNREACHABLE', 'this node agent has no kubeconfig for its cluster (register with --kubeconfig, or run k3s/rke2/kubeadm here)');
    } else {
      const serve = deps.more?.[stream.target];
      if (serve) serve(stream);
      else stream.reset('STREAM_REFUSED', `the node agent does not serve ${stream.target.slice(0, 64)}`);
    }
  };
}
