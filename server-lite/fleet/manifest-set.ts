// The normalised, content-addressed manifest set a renderer produces for one target: objects parsed
// from YAML, namespaces applied, sorted by identity, each with the sha256 of its canonical JSON.
// The revision id is the sha256 over the sorted object hashes, so equal content means equal revision
// whichever renderer, file order or key order produced it.
import { parseAllDocuments } from 'yaml';
import { canonicalJson, manifestRevision, sha256Hex } from '../../protocol/index.ts';
import { FleetError } from './errors.ts';

export type JsonObject = { [key: string]: unknown };

export interface ManifestEntry {
  /** `group/kind/namespace/name` (empty group for core, empty namespace for cluster-scoped). */
  id: string;
  sha256: string;
  object: JsonObject;
}

export interface ManifestSet {
  revision: string;
  objects: ManifestEntry[];
}

/** Built-in cluster-scoped kinds by `group/kind`; CRDs in the set add their own (see below). */
const CLUSTER_SCOPED = new Set([
  '/Namespace', '/Node', '/PersistentVolume', '/ComponentStatus',
  'rbac.authorization.k8s.io/ClusterRole', 'rbac.authorization.k8s.io/ClusterRoleBinding',
  'apiextensions.k8s.io/CustomResourceDefinition', 'apiregistration.k8s.io/APIService',
  'storage.k8s.io/StorageClass', 'storage.k8s.io/CSIDriver', 'storage.k8s.io/CSINode', 'storage.k8s.io/VolumeAttachment',
  'scheduling.k8s.io/PriorityClass', 'node.k8s.io/RuntimeClass', 'networking.k8s.io/IngressClass',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration', 'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy', 'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding',
  'certificates.k8s.io/CertificateSigningRequest',
  'flowcontrol.apiserver.k8s.io/FlowSchema', 'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration',
]);

/** The naming shared with the agent lives in protocol/manifest-digest.ts (decision 0755). */
export { canonicalJson };
export const sha256 = sha256Hex;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses multi-document YAML (1.1, as kubectl reads it); empty documents are skipped, `kind: List` flattened. */
export function parseManifests(text: string, source: string): JsonObject[] {
  const out: JsonObject[] = [];
  const docs = parseAllDocuments(text, { version: '1.1', merge: true, uniqueKeys: true });
  if (!Array.isArray(docs)) throw new FleetError('MANIFEST_INVALID', `${source}: not a YAML stream`, { file: source });
  docs.forEach((doc, i) => {
    const err = doc.errors[0];
    if (err) throw new FleetError('MANIFEST_INVALID', `${source}: document ${i + 1}: ${err.message.split('\n')[0]}`, { file: source });
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (!isObject(value)) throw new FleetError('MANIFEST_INVALID', `${source}: document ${i + 1} is not a mapping`, { file: source });
    if (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) {
      for (const item of value.items) {
        if (!isObject(item)) throw new FleetError('MANIFEST_INVALID', `${source}: document ${i + 1}: a list item is not a mapping`, { file: source });
        out.push(item);
      }
      return;
    }
    out.push(value);
  });
  return out;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

export interface NormaliseOptions {
  bundle: string;
  /** Namespace for namespaced objects that name none (Fleet's default: `default`). */
  defaultNamespace?: string | undefined;
  /** Forces every namespaced object into this namespace; a cluster-scoped object is then an error. */
  namespace?: string | undefined;
}

export function normaliseManifests(objects: readonly JsonObject[], opts: NormaliseOptions): ManifestSet {
  const clusterScoped = new Set(CLUSTER_SCOPED);
  for (const o of objects) {
    // A CRD in the same bundle tells us the scope of its kind; the agent applies CRDs first.
    if (o.kind === 'CustomResourceDefinition' && isObject(o.spec) && o.spec.scope === 'Cluster' && isObject(o.spec.names)) {
      clusterScoped.add(`${String(o.spec.group)}/${String(o.spec.names.kind)}`);
    }
  }
  const byId = new Map<string, ManifestEntry>();
  for (const raw of objects) {
    const where = `bundle ${opts.bundle}`;
    const meta = raw.metadata;
    if (typeof raw.apiVersion !== 'string' || typeof raw.kind !== 'string' || !isObject(meta) || typeof meta.name !== 'string' || meta.name === '') {
      throw new FleetError('MANIFEST_INVALID', `${where}: an object lacks apiVersion, kind or metadata.name (${canonicalJson(raw).slice(0, 120)})`, {
        bundle: opts.bundle,
      });
    }
    const group = groupOf(raw.apiVersion);
    const scoped = clusterScoped.has(`${group}/${raw.kind}`);
    const object: JsonObject = structuredClone(raw);
    const metadata = object.metadata as JsonObject;
    if (scoped) {
      if (opts.namespace !== undefined) {
        throw new FleetError('NAMESPACE_CLUSTER_SCOPED', `${where}: namespace "${opts.namespace}" is forced but ${raw.kind} ${meta.name} is cluster-scoped`, {
          bundle: opts.bundle,
        });
      }
      delete metadata.namespace;
    } else if (opts.namespace !== undefined) {
      metadata.namespace = opts.namespace;
    } else if (typeof metadata.namespace !== 'string' || metadata.namespace === '') {
      metadata.namespace = opts.defaultNamespace ?? 'default';
    }
    const ns = typeof metadata.namespace === 'string' ? metadata.namespace : '';
    const id = `${group}/${raw.kind}/${ns}/${meta.name}`;
    if (byId.has(id)) throw new FleetError('MANIFEST_DUPLICATE', `${where}: ${id} appears twice`, { bundle: opts.bundle });
    byId.set(id, { id, sha256: sha256(canonicalJson(object)), object });
  }
  const entries = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { revision: revisionOf(entries), objects: entries };
}

/** The revision id: sha256 over `id sha256` lines of the sorted entries. */
export function revisionOf(entries: readonly ManifestEntry[]): string {
  return manifestRevision(entries);
}

/** Checks that every entry's hash matches its object and the revision matches the entries. */
export function verifyManifestSet(set: ManifestSet): boolean {
  return set.objects.every((e) => sha256(canonicalJson(e.object)) === e.sha256) && revisionOf(set.objects) === set.revision;
}

/** The bytes that are stored and chunked: canonical JSON of the whole set. */
export function encodeManifestSet(set: ManifestSet): Buffer {
  return Buffer.from(canonicalJson(set));
}

export function decodeManifestSet(bytes: Uint8Array): ManifestSet {
  const value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
  if (!isObject(value) || typeof value.revision !== 'string' || !Array.isArray(value.objects)) {
    throw new FleetError('CHUNK_CORRUPT', 'decoded bytes are not a manifest set');
  }
  const set = value as unknown as ManifestSet;
  if (!verifyManifestSet(set)) throw new FleetError('CHUNK_CORRUPT', `manifest set ${set.revision}: hashes do not match the objects`);
  return set;
}
