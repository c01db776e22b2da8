// Facts only the cluster role knows: the Kubernetes version and node count of the cluster its
// kubeconfig points at, read with two plain GETs through KubeUpstream. A failure is not fatal: the
// agent reports what it has (the server shows the cluster without a version) and retries on refresh.
import { KubeUpstream } from './kube-upstream.ts';

export interface ClusterFacts {
  kubernetesVersion: string;
  nodeCount: number;
}

/** Page size when counting nodes, so a 5,000-node cluster is not one giant response. */
const NODE_PAGE = 500;

export function loadKubeConfig(path: string): Promise<KubeUpstream> {
  return KubeUpstream.fromKubeconfig(path);
}

async function get(kube: KubeUpstream, path: string): Promise<Record<string, unknown>> {
  const r = await kube.json('GET', path);
  if (r.status !== 200 || typeof r.body !== 'object' || r.body === null) {
    const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    throw new Error(`GET ${path}: HTTP ${r.status} ${text.slice(0, 200)}`);
  }
  return r.body as Record<string, unknown>;
}

export async function readClusterFacts(kube: KubeUpstream): Promise<ClusterFacts> {
  const version = await get(kube, '/version');
  if (typeof version.gitVersion !== 'string') throw new Error('GET /version: no gitVersion in the answer');
  let nodeCount = 0;
  let cont: string | undefined;
  do {
    const page = await get(kube, `/api/v1/nodes?limit=${NODE_PAGE}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    nodeCount += Array.isArray(page.items) ? page.items.length : 0;
    const meta = page.metadata as { continue?: unknown } | undefined;
    cont = typeof meta?.continue === 'string' && meta.continue !== '' ? meta.continue : undefined;
  } while (cont);
  return { kubernetesVersion: version.gitVersion, nodeCount };
}
