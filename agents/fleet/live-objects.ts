// Reads the live state of a deployment's objects for one reconcile pass with few requests: kinds
// with several objects in one namespace are LISTed (paged), the rest fetched one by one, at most
// KUBE_CONCURRENCY requests in flight (a LIST too large to read falls back to GETs). A kind the cluster no longer serves (its CRD deleted)
// reads as absent: its objects are gone, which is drift, not an error.
import type { Kube } from './kube.ts';
import type { KubeObject, ObjectRef } from './types.ts';
import { FleetAgentError } from './errors.ts';
import { FLEET_AGENT_LIMITS } from './limits.ts';
import { keyOf } from './object-ref.ts';

/** Runs `fn` over `items` with at most `limit` in flight, keeping result order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const goneIfUnknown = <T>(p: Promise<T>, absent: T): Promise<T> => p.catch((err: unknown) => {
  if (err instanceof FleetAgentError && err.code === 'KIND_UNKNOWN') return absent;
  throw err;
});

/** keyOf(ref) → live object, or undefined when it does not exist. */
export async function readLive(kube: Kube, refs: readonly ObjectRef[], threshold: number = FLEET_AGENT_LIMITS.LIST_THRESHOLD, labelSelector?: string): Promise<Map<string, KubeObject | undefined>> {
  const groups = new Map<string, ObjectRef[]>();
  for (const r of refs) {
    const g = `${r.group}/${r.version}/${r.kind}/${r.namespace}`;
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  type Job = { list: ObjectRef[] } | { get: ObjectRef };
  const jobs: Job[] = [...groups.values()].flatMap((rs): Job[] => (rs.length >= threshold ? [{ list: rs }] : rs.map((r) => ({ get: r }))));
  const out = new Map<string, KubeObject | undefined>();
  await mapLimit(jobs, FLEET_AGENT_LIMITS.KUBE_CONCURRENCY, async (job) => {
    if ('get' in job) {
      out.set(keyOf(job.get), await goneIfUnknown(kube.get(job.get), undefined));
      return;
    }
    const items = await goneIfUnknown(kube.list(job.list[0]!, labelSelector === undefined ? {} : { labelSelector }), []).catch(async (err: unknown) => {
      // A page over the response limit (a namespace of huge ConfigMaps): read ours one by one.
      if (!(err instanceof FleetAgentError && err.code === 'KUBE_RESPONSE_TOO_LARGE')) throw err;
      const got = await mapLimit(job.list, FLEET_AGENT_LIMITS.KUBE_CONCURRENCY, (r) => goneIfUnknown(kube.get(r), undefined));
      return got.filter((o): o is KubeObject => o !== undefined);
    });
    const byName = new Map(items.map((o) => [o.metadata.name, o]));
    for (const r of job.list) out.set(keyOf(r), byName.get(r.name));
  });
  return out;
}
