// The human view of `drover cluster get ID` (the JSON stays available with --json): who the
// cluster is, whether it is connected, what its Kubernetes reports, and the Drover nodes in it.
// Pure: takes the API's answer, returns text.
import { table } from './token.ts';

interface KubeNode {
  name: string;
  kubeletVersion: string | null;
  allocatable: Record<string, string>;
  conditions: { type: string; status: string }[];
}

interface Warning {
  namespace: string | null;
  object: string;
  reason: string | null;
  message: string;
  count: number;
  lastSeen: string | null;
}

/** One row of `drover cluster list --json` (contract shape, ARCHITECTURE.md §3). */
export interface ClusterRow {
  id: string;
  name: string;
  labels: Record<string, string>;
  state: string;
  lastSeen: string | null;
  kubernetesVersion: string | null;
}

/** `GET /v1/fleet/clusters` rows: how many bundles target the cluster and how many are Ready. */
export interface FleetClusterRow {
  id: string;
  state: string;
  bundles: number;
  ready: number;
}

/** `GET /v1/fleet/clusters/{id}`: the cluster's bundles with the states `drover bundle status` shows. */
export interface ClusterFleet {
  state: string;
  summary: Record<string, number>;
  bundles: { name: string; state: string; message: string; revision?: string; appliedRevision?: string }[];
}

export interface ClusterDetail extends ClusterRow {
  kubernetes?: { kubernetesVersion: string | null; nodes?: KubeNode[]; warnings?: Warning[]; collectedAt?: string } | null;
  nodes?: { id: string; name: string; state: string; lastSeen: string | null; roles?: string[] }[];
  fleet?: ClusterFleet;
  /** Which tunnel serves the cluster's Kubernetes API now (issue 15: node agent fallback). */
  kubernetesAccess?: { path: 'cluster-agent' | 'node-agent' | 'none'; agentId: string | null; nodeId: string | null };
}

/** The `api access:` line of `cluster get`. */
export function accessText(a: NonNullable<ClusterDetail['kubernetesAccess']>): string {
  if (a.path === 'cluster-agent') return 'through the cluster agent';
  if (a.path === 'node-agent') return `through the node agent on ${a.nodeId ?? '?'} (fallback: the cluster agent is not connected)`;
  return 'none (neither the cluster agent nor a node agent that can reach the Kubernetes API is connected)';
}

const labelText = (labels: Record<string, string>): string => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',') || '-';

export function renderClusterDetail(c: ClusterDetail): string {
  const out: string[] = [];
  out.push(`cluster:     ${c.id} (${c.name})`);
  out.push(`state:       ${c.state}${c.lastSeen ? `, last seen ${c.lastSeen}` : ''}`);
  out.push(`labels:      ${labelText(c.labels)}`);
  const k = c.kubernetes;
  out.push(`kubernetes:  ${k?.kubernetesVersion ?? c.kubernetesVersion ?? 'unknown'}${k?.collectedAt ? ` (facts from ${k.collectedAt})` : ''}`);
  if (c.kubernetesAccess) out.push(`api access:  ${accessText(c.kubernetesAccess)}`);
  if (k?.nodes && k.nodes.length > 0) {
    out.push('', table([['NODE', 'READY', 'KUBELET', 'CPU', 'MEMORY', 'PODS'], ...k.nodes.map((n) => [
      n.name,
      n.conditions.find((x) => x.type === 'Ready')?.status ?? 'Unknown',
      n.kubeletVersion ?? '-',
      n.allocatable.cpu ?? '-',
      n.allocatable.memory ?? '-',
      n.allocatable.pods ?? '-',
    ])]).trimEnd());
  }
  if (k?.warnings && k.warnings.length > 0) {
    out.push('', 'recent Warning events:');
    out.push(table([['LAST SEEN', 'OBJECT', 'REASON', 'COUNT', 'MESSAGE'], ...k.warnings.map((w) => [
      w.lastSeen ?? '-',
      w.namespace ? `${w.namespace}/${w.object}` : w.object,
      w.reason ?? '-',
      String(w.count),
      w.message.replace(/\s+/g, ' ').slice(0, 80),
    ])]).trimEnd());
  }
  if (c.nodes && c.nodes.length > 0) {
    out.push('', table([['DROVER NODE', 'NAME', 'STATE', 'LAST SEEN', 'ROLES'], ...c.nodes.map((n) => [
      n.id, n.name, n.state, n.lastSeen ?? '-', (n.roles ?? []).join(',') || '-',
    ])]).trimEnd());
  }
  if (c.fleet) {
    const f = c.fleet;
    if (f.bundles.length === 0) out.push('', 'bundles:     none target this cluster');
    else {
      out.push('', `bundles:     ${f.summary.ready ?? 0}/${f.bundles.length} ready, worst ${f.state}`);
      out.push(table([['BUNDLE', 'STATE', 'REVISION', 'MESSAGE'], ...f.bundles.map((b) => [
        b.name, b.state, (b.revision ?? '').slice(0, 12) || '-', b.message.replace(/\s+/g, ' ').slice(0, 80) || '-',
      ])]).trimEnd());
    }
  }
  return `${out.join('\n')}\n`;
}
