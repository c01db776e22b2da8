// The node role's stream targets for access (issue 15): `drover-shell` (remote shell) and
// `http:kube-apiserver` (the fallback path to the cluster's Kubernetes API while the cluster agent
// is down). The Kubernetes proxy itself is the cluster agent's (agents/cluster/kube-proxy.ts),
// handed in by the caller (cli/), so the node role serves it with the same code and the role
// folders do not import each other. nodeAccessTargets gives them as a map for a role dispatcher
// that serves other targets too (plans: node-role.ts `extraTargets`); nodeAccessStreams serves them alone.
import type { Logger } from 'pino';
import { KUBE_API_TARGET, NODE_AGENT_TARGETS, type TunnelStream } from '../../protocol/index.ts';

export type StreamServe = (stream: TunnelStream) => void;

export interface NodeAccessDeps {
  /** Serves `http:kube-apiserver` with this node's kubeconfig; absent: this node has none. */
  kube?: StreamServe;
}

/** `onStop` (RoleContext): running shells are hung up when the agent stops, not left orphaned. */
export function nodeAccessTargets(ctx: { logger: Logger; onStop?: (fn: () => Promise<void>) => void }, deps: NodeAccessDeps = {}): Map<string, StreamServe> {
  const live = new Set<() => void>();
  ctx.onStop?.(async () => {
    for (const hangUp of live) hangUp();
  });
  // The shell session (shell-session.ts) is loaded with the first shell (issue 25, decision 1222);
  // the stream holds what arrives meanwhile.
  const shell: StreamServe = (stream) => {
    let hangUp: (() => void) | undefined;
    let hungUp = false;
    const entry = (): void => {
      hungUp = true;
      hangUp?.();
    };
    live.add(entry);
    stream.once('close', () => live.delete(entry));
    import('./shell-session.ts').then(
      ({ serveShell }) => {
        if (!hungUp && !stream.destroyed) hangUp = serveShell(stream, ctx.logger);
      },
      (err: unknown) => stream.reset('INTERNAL_ERROR', `the shell could not start: ${(err as Error).message}`.slice(0, 200)),
    );
  };
  const kube: StreamServe =
    deps.kube ?? ((stream) => stream.reset('TARGET_UNREACHABLE', 'this node agent has no kubeconfig for its cluster (register with --kubeconfig, or run k3s/rke2/kubeadm here)'));
  return new Map<string, StreamServe>([
    [NODE_AGENT_TARGETS.shell, shell],
    [KUBE_API_TARGET, kube],
  ]);
}

export function nodeAccessStreams(ctx: { logger: Logger; onStop?: (fn: () => Promise<void>) => void }, deps: NodeAccessDeps = {}): StreamServe {
  const targets = nodeAccessTargets(ctx, deps);
  return (stream) => {
    stream.on('error', () => {});
    const serve = targets.get(stream.target);
    if (serve) serve(stream);
    else stream.reset('STREAM_REFUSED', `the node agent does not serve ${stream.target.slice(0, 64)}`);
  };
}
