// The node role's facts (issue 15): OS, kernel, arch, CPUs, memory, disks, uptime and the
// Kubernetes distribution on this node, merged into the protocol's `facts` message as `extras`
// under the `node.` prefix (docs/shell.md, "Node facts"). Facts are re-sent only when they change,
// so values that drift all the time (free memory and disk, uptime) are quantised here.
import type { Logger } from 'pino';
import type { Facts } from '../common/facts.ts';
import { quantiseUptime } from './facts-parse.ts';
import { readControlPlane, readHostFacts, readKubernetes, type FactsSources, type NodeFacts } from './facts-read.ts';
import type { KubeOnNode } from './facts-parse.ts';
import { nodeKubeconfig } from './kube-fallback.ts';

/** The `extras` keys the node role reports (append-only; the server and `drover node get` read them). */
export const NODE_FACT_KEYS = Object.freeze({
  os: 'node.os',
  osId: 'node.osId',
  osVersion: 'node.osVersion',
  kernel: 'node.kernel',
  arch: 'node.arch',
  cpus: 'node.cpus',
  memoryBytes: 'node.memoryBytes',
  memoryAvailableBytes: 'node.memoryAvailableBytes',
  /** JSON array of {mount, fsType, sizeBytes, freeBytes}. */
  disks: 'node.disks',
  uptimeSeconds: 'node.uptimeSeconds',
  kubernetesDistribution: 'node.kubernetes.distribution',
  kubernetesVersion: 'node.kubernetes.version',
  /** `available` when this node agent has a kubeconfig to serve its cluster's Kubernetes API as the fallback path, else `none`. */
  kubeApiFallback: 'node.kubeApiFallback',
  /** `true` when the node runs a kube-apiserver (or a k3s/rke2 server): plans and upgrades go to these first, one at a time. */
  controlPlane: 'node.controlPlane',
} as const);

/** The Kubernetes binaries are asked again this often (an upgrade changes the answer). */
const KUBE_PROBE_EVERY_MS = 10 * 60_000;

/** Free space and memory rounded down to 1 % of the total (at least 1 MiB). */
export function quantiseFree(free: number, total: number): number {
  const step = Math.max(1024 * 1024, Math.floor(total / 100));
  return Math.floor(free / step) * step;
}

/** The facts as protocol extras (strings). */
export function factsExtras(f: NodeFacts, kubeApiFallback = false, controlPlane = false): Record<string, string> {
  const k = NODE_FACT_KEYS;
  return {
    // The base facts' own `kernel` extra (agents/common/facts.ts), kept: role extras replace base extras.
    kernel: f.kernel.slice(0, 256),
    [k.os]: f.os.prettyName.slice(0, 256),
    [k.osId]: f.os.id.slice(0, 64),
    [k.osVersion]: f.os.version.slice(0, 64),
    [k.kernel]: f.kernel.slice(0, 256),
    [k.arch]: f.arch,
    [k.cpus]: String(f.cpus),
    [k.memoryBytes]: String(f.memory.totalBytes),
    [k.memoryAvailableBytes]: String(quantiseFree(f.memory.availableBytes, f.memory.totalBytes)),
    [k.disks]: JSON.stringify(f.disks.map((d) => ({ mount: d.mount.slice(0, 128), fsType: d.fsType, sizeBytes: d.sizeBytes, freeBytes: quantiseFree(d.freeBytes, d.sizeBytes) }))),
    [k.uptimeSeconds]: String(quantiseUptime(f.uptimeSeconds)),
    [k.kubernetesDistribution]: f.kubernetes.distribution,
    [k.kubernetesVersion]: f.kubernetes.version,
    [k.kubeApiFallback]: kubeApiFallback ? 'available' : 'none',
    [k.controlPlane]: controlPlane ? 'true' : 'false',
  };
}

export interface NodeFactsOptions {
  sources?: FactsSources;
  /** Where to look for a distribution's admin kubeconfig (kube-fallback.ts). */
  kubeconfigs?: readonly string[];
  now?: () => number;
}

/** A RoleFactsProvider (agents/common/run-agent.ts) for the node role. */
export function nodeFactsProvider(ctx: { logger: Logger; identity?: { kubeconfig?: string | null } }, opts: NodeFactsOptions = {}): () => Promise<Partial<Facts>> {
  const sources = opts.sources ?? { root: '/', path: process.env.PATH ?? '' };
  const now = opts.now ?? Date.now;
  let kube: { at: number; value: KubeOnNode; controlPlane: boolean } | undefined;
  // DROVER_NODE_CONTROL_PLANE=true|false: for an agent that cannot see the host's processes (a
  // container without the host's /proc), or a node whose role the processes do not show.
  const override = process.env.DROVER_NODE_CONTROL_PLANE;
  return async () => {
    try {
      if (!kube || now() - kube.at >= KUBE_PROBE_EVERY_MS) {
        const controlPlane = override === 'true' ? true : override === 'false' ? false : readControlPlane(sources.root);
        kube = { at: now(), value: await readKubernetes(sources.path), controlPlane };
      }
      const fallback = nodeKubeconfig(ctx.identity?.kubeconfig, opts.kubeconfigs) !== undefined;
      return { extras: factsExtras({ ...readHostFacts(sources), kubernetes: kube.value }, fallback, kube.controlPlane) };
    } catch (err) {
      ctx.logger.warn({ err: (err as Error).message }, 'cannot read node facts');
      return {};
    }
  };
}
