// Facts only the cluster role knows: the Kubernetes version and node count of the cluster its
// kubeconfig points at, read with @kubernetes/client-node. A failure is not fatal: the agent
// reports what it has (the server shows the cluster without a version) and retries on refresh.
import { CoreV1Api, KubeConfig, VersionApi } from '@kubernetes/client-node';

export interface ClusterFacts {
  kubernetesVersion: string;
  nodeCount: number;
}

/** Page size when counting nodes, so a 5,000-node cluster is not one giant response. */
const NODE_PAGE = 500;

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export async function readClusterFacts(kc: KubeConfig): Promise<ClusterFacts> {
  const version = await kc.makeApiClient(VersionApi).getCode();
  const core = kc.makeApiClient(CoreV1Api);
  let nodeCount = 0;
  let cont: string | undefined;
  do {
    const page = await core.listNode({ limit: NODE_PAGE, ...(cont ? { _continue: cont } : {}) });
    nodeCount += page.items.length;
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return { kubernetesVersion: version.gitVersion, nodeCount };
}
