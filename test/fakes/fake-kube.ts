// An in-memory `Kube` for unit tests: objects in a map, a fixed discovery table, CRDs that
// become Established on demand, and injectable failures (unreachable, refused applies).
import type { Kube, ResourceInfo } from '../../agents/fleet/kube.ts';
import type { KubeObject, ObjectRef } from '../../agents/fleet/types.ts';
import { FleetAgentError } from '../../agents/fleet/errors.ts';
import { keyOf, refOf } from '../../agents/fleet/object-ref.ts';

const BUILTIN: Record<string, ResourceInfo> = {
  '/Namespace': { plural: 'namespaces', namespaced: false },
  '/ConfigMap': { plural: 'configmaps', namespaced: true },
  'apps/Deployment': { plural: 'deployments', namespaced: true },
  'apiextensions.k8s.io/CustomResourceDefinition': { plural: 'customresourcedefinitions', namespaced: false },
};

export class FakeKube implements Kube {
  readonly objects = new Map<string, KubeObject>();
  readonly calls: string[] = [];
  /** Set to make every call fail as if the apiserver were gone. */
  unreachable = false;
  /** Applies left before the next apply throws APPLY_FAILED (undefined: never). */
  failAfterApplies: number | undefined;
  /** Makes every LIST fail as over the response size limit. */
  listTooLarge = false;
  /** Established condition given to applied CRDs. */
  establishCrds = true;
  /**
   * Discovery reads (resource() calls) for which a kind defined by a CRD applied just now is not
   * served yet, though the CRD is Established: the real apiserver's discovery lag.
   */
  discoveryLagReads = 0;
  private readonly lagging = new Map<string, number>();
  private uid = 0;
  private readonly kinds = new Map(Object.entries(BUILTIN));

  /** `namespaces`: namespaces that exist before the test starts, as `default` does in a real cluster. */
  constructor(opts: { namespaces?: readonly string[] } = {}) {
    for (const name of opts.namespaces ?? []) {
      this.objects.set(`/Namespace//${name}`, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `uid-${++this.uid}` } });
    }
  }

  /** Keys of the objects a test put there, leaving out namespaces. */
  keys(): string[] {
    return [...this.objects.keys()].filter((k) => !k.startsWith('/Namespace//'));
  }

  private check(): void {
    if (this.unreachable) throw new FleetAgentError('KUBE_UNREACHABLE', 'connect ECONNREFUSED');
  }

  async resource(ref: Pick<ObjectRef, 'group' | 'kind'>): Promise<ResourceInfo | undefined> {
    this.check();
    const key = `${ref.group}/${ref.kind}`;
    const lag = this.lagging.get(key) ?? 0;
    if (lag > 0) {
      this.lagging.set(key, lag - 1);
      return undefined;
    }
    return this.kinds.get(key);
  }

  async apply(obj: KubeObject): Promise<KubeObject> {
    this.check();
    const ref = refOf(obj);
    if (!this.kinds.has(`${ref.group}/${ref.kind}`) || (this.lagging.get(`${ref.group}/${ref.kind}`) ?? 0) > 0) throw new FleetAgentError('KIND_UNKNOWN', `${obj.apiVersion} ${obj.kind}`);
    if (this.failAfterApplies !== undefined && this.failAfterApplies-- <= 0) throw new FleetAgentError('APPLY_FAILED', `${obj.kind} ${obj.metadata.name}: injected`);
    this.calls.push(`apply ${obj.kind}/${obj.metadata.name}`);
    const prev = this.objects.get(keyOf(ref));
    const live: KubeObject = { ...structuredClone(obj), metadata: { ...structuredClone(obj.metadata), uid: prev?.metadata.uid ?? `uid-${++this.uid}` } };
    if (ref.kind === 'CustomResourceDefinition') {
      const spec = obj.spec as { group: string; scope: string; names: { kind: string; plural: string } };
      this.kinds.set(`${spec.group}/${spec.names.kind}`, { plural: spec.names.plural, namespaced: spec.scope !== 'Cluster' });
      if (this.discoveryLagReads > 0) this.lagging.set(`${spec.group}/${spec.names.kind}`, this.discoveryLagReads);
      live.status = { conditions: [{ type: 'Established', status: this.establishCrds ? 'True' : 'False' }] };
    }
    this.objects.set(keyOf(ref), live);
    return live;
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    this.check();
    if (!this.kinds.has(`${ref.group}/${ref.kind}`)) throw new FleetAgentError('KIND_UNKNOWN', `${ref.group}/${ref.version} ${ref.kind}`);
    return this.objects.get(keyOf(ref));
  }

  async list(scope: Pick<ObjectRef, 'group' | 'version' | 'kind' | 'namespace'>): Promise<KubeObject[]> {
    this.check();
    if (!this.kinds.has(`${scope.group}/${scope.kind}`)) throw new FleetAgentError('KIND_UNKNOWN', `${scope.group}/${scope.version} ${scope.kind}`);
    if (this.listTooLarge) throw new FleetAgentError('KUBE_RESPONSE_TOO_LARGE', 'injected');
    this.calls.push(`list ${scope.kind}/${scope.namespace}`);
    const prefix = `${scope.group}/${scope.kind}/${scope.namespace}/`;
    return [...this.objects].filter(([k]) => k.startsWith(prefix)).map(([, o]) => structuredClone(o));
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    this.check();
    this.calls.push(`delete ${ref.kind}/${ref.name}`);
    return this.objects.delete(keyOf(ref));
  }

  /** What deleting a CRD does: the kind stops being served and its objects are gone. */
  deleteCrd(group: string, kind: string, crdName: string): void {
    this.kinds.delete(`${group}/${kind}`);
    this.objects.delete(`apiextensions.k8s.io/CustomResourceDefinition//${crdName}`);
    for (const k of [...this.objects.keys()]) if (k.startsWith(`${group}/${kind}/`)) this.objects.delete(k);
  }

  close(): void {}
}
