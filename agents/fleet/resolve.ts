// Resolves a deployment's manifests against the cluster before anything is applied: every kind
// must be served (or be defined by a CRD in the same set, whose scope the CRD itself declares),
// namespaced objects without a namespace get defaultNamespace (or `default`), cluster-scoped ones
// lose any namespace. An unknown kind fails the whole revision up front: nothing is half-applied.
import type { DesiredDeployment, KubeObject, ObjectRef } from './types.ts';
import type { Kube } from './kube.ts';
import { FleetAgentError } from './errors.ts';
import { apiVersionOf, isCrd, refOf } from './object-ref.ts';

export interface ResolvedObject {
  ref: ObjectRef;
  manifest: KubeObject;
}

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

/** group/kind → namespaced, for kinds that CRDs in the same manifest set define. */
export function scopesFromCrds(manifests: readonly KubeObject[]): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const m of manifests) {
    if (!isCrd(refOf(m))) continue;
    const spec = rec(m.spec);
    const kind = rec(spec.names).kind;
    if (typeof spec.group === 'string' && typeof kind === 'string') out.set(`${spec.group}/${kind}`, spec.scope !== 'Cluster');
  }
  return out;
}

export async function resolveManifests(kube: Kube, d: DesiredDeployment): Promise<ResolvedObject[]> {
  const crdScopes = scopesFromCrds(d.manifests);
  const out: ResolvedObject[] = [];
  for (const m of d.manifests) {
    const ref = refOf(m);
    const info = await kube.resource(ref);
    const namespaced = info?.namespaced ?? crdScopes.get(`${ref.group}/${ref.kind}`);
    if (namespaced === undefined) throw new FleetAgentError('KIND_UNKNOWN', `the cluster does not serve ${apiVersionOf(ref)} ${ref.kind} (${m.metadata.name}), and no CRD in the bundle defines it`);
    const manifest = structuredClone(m);
    if (namespaced) {
      manifest.metadata.namespace = m.metadata.namespace ?? d.options.defaultNamespace ?? 'default';
    } else {
      delete manifest.metadata.namespace;
    }
    out.push({ ref: { ...ref, namespace: manifest.metadata.namespace ?? '' }, manifest });
  }
  return out;
}
