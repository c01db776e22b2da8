// Why a workload is not ready, from the cluster's Warning events (pure): a Deployment that says
// "available 0/2" does not say that its pods cannot be scheduled or pulled. The newest Warning
// events about the workload itself or the objects it owns by name (its ReplicaSets, its Pods:
// `web-7d9c…`, `web-7d9c…-x2k4p`) are appended to the readiness reason, one per reason, at most two.
import type { KubeObject, ObjectRef } from './types.ts';

/** Kinds whose pods' events explain them. */
export const EXPLAINED_KINDS: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);
const MAX_REASONS = 2;
const MAX_MESSAGE = 240;

interface EventLike {
  type?: unknown;
  reason?: unknown;
  message?: unknown;
  lastTimestamp?: unknown;
  eventTime?: unknown;
  metadata?: { creationTimestamp?: unknown };
  involvedObject?: { kind?: unknown; name?: unknown; namespace?: unknown };
}

/**
 * The workload itself, or a name its controller makes: `web-<hash>` (ReplicaSet), `web-<hash>-<5>`
 * (its Pod), `web-<n>` (StatefulSet Pod), `web-<5>` (DaemonSet/Job Pod). Not `web-api-…`, not `web-front1`.
 */
function ownedName(workload: string, name: string): boolean {
  if (name === workload) return true;
  if (!name.startsWith(`${workload}-`)) return false;
  // Controllers draw these suffixes from Kubernetes' "safe" alphabet (no vowels, no 0, 1 or 3).
  return /^([bcdfghjklmnpqrstvwxz2456789]{5,10}(-[bcdfghjklmnpqrstvwxz2456789]{5})?|\d+)$/.test(name.slice(workload.length + 1));
}

const when = (e: EventLike): string => String(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '');

/** "Pod web-abc: FailedScheduling: 0/2 nodes are available: …" lines for `ref`, newest first. */
export function explainNotReady(ref: Pick<ObjectRef, 'kind' | 'name' | 'namespace'>, events: readonly KubeObject[]): string[] {
  const mine = (events as readonly EventLike[])
    .filter((e) => e.type === 'Warning' && typeof e.involvedObject?.name === 'string')
    .filter((e) => (e.involvedObject?.namespace ?? ref.namespace) === ref.namespace)
    .filter((e) => ownedName(ref.name, String(e.involvedObject?.name)))
    .sort((a, b) => (when(a) < when(b) ? 1 : when(a) > when(b) ? -1 : 0));
  const out: string[] = [];
  const seen = new Set<string>();
  for (const e of mine) {
    const reason = String(e.reason ?? 'Warning');
    if (seen.has(reason)) continue;
    seen.add(reason);
    const message = String(e.message ?? '').replace(/\s+/g, ' ').trim().slice(0, MAX_MESSAGE);
    out.push(`${String(e.involvedObject?.kind ?? '?')} ${String(e.involvedObject?.name)}: ${reason}${message ? `: ${message}` : ''}`);
    if (out.length >= MAX_REASONS) break;
  }
  return out;
}
