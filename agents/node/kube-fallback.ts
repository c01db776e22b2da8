// Which kubeconfig the node role uses to serve its cluster's Kubernetes API as the fallback path
// (issue 15): the one given at registration (--kubeconfig), else the admin kubeconfig the node's
// distribution writes (k3s, rke2, kubeadm control-plane nodes). A worker node has none of these and
// simply does not serve the fallback (the server then finds no path while the cluster agent is down).
import { accessSync, constants } from 'node:fs';

/** Where k3s, rke2 and kubeadm put the admin kubeconfig on a server / control-plane node. */
export const DISTRIBUTION_KUBECONFIGS: readonly string[] = Object.freeze([
  '/etc/rancher/k3s/k3s.yaml',
  '/etc/rancher/rke2/rke2.yaml',
  '/etc/kubernetes/admin.conf',
]);

export function nodeKubeconfig(registered: string | null | undefined, candidates: readonly string[] = DISTRIBUTION_KUBECONFIGS): string | undefined {
  if (registered) return registered;
  for (const path of candidates) {
    try {
      accessSync(path, constants.R_OK);
      return path;
    } catch {
      // not this one
    }
  }
  return undefined;
}
