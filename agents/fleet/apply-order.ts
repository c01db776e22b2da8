// The order in which kinds are applied, for bundles of plain YAML that list them in any order:
// what others refer to first (accounts, config, storage, RBAC, services), then workloads, then
// what routes to them, and admission webhooks and unknown kinds last — a webhook applied before
// the Service behind it would reject the rest of the bundle. Within one kind the manifest order
// stays (a rendered chart is already ordered). Pruning walks the same order backwards.
import type { ObjectRef } from './types.ts';
import { applyTier } from './object-ref.ts';

const KIND_ORDER: readonly string[] = Object.freeze([
  'PriorityClass', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodDisruptionBudget',
  'ServiceAccount', 'Secret', 'ConfigMap', 'StorageClass', 'PersistentVolume', 'PersistentVolumeClaim',
  'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding',
  'Service', 'DaemonSet', 'Pod', 'ReplicationController', 'ReplicaSet', 'Deployment',
  'HorizontalPodAutoscaler', 'StatefulSet', 'Job', 'CronJob', 'IngressClass', 'Ingress', 'APIService',
]);
const WEBHOOKS = new Set(['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);

/** Sort key: [tier (Namespaces, CRDs, rest), kind rank within the rest]. */
export function applyRank(ref: Pick<ObjectRef, 'group' | 'kind'>): [number, number] {
  const tier = applyTier(ref);
  if (tier < 2) return [tier, 0];
  if (WEBHOOKS.has(ref.kind)) return [2, KIND_ORDER.length + 2];
  const i = KIND_ORDER.indexOf(ref.kind);
  return [2, i < 0 ? KIND_ORDER.length + 1 : i];
}

export function compareApplyRank(a: Pick<ObjectRef, 'group' | 'kind'>, b: Pick<ObjectRef, 'group' | 'kind'>): number {
  const [ta, ka] = applyRank(a);
  const [tb, kb] = applyRank(b);
  return ta - tb || ka - kb;
}
