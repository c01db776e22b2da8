// Fleet's own resource YAML, brought over unchanged (pure; decision 0806): `GitRepo` and
// `ClusterGroup` objects (fleet.cattle.io/v1alpha1) become Drover gitrepos and cluster groups, and
// a gitrepo is shown back in that form. A field Drover cannot honour is refused with the reason when
// ignoring it would change what is deployed or where (credentials, pausing, target namespace…), and
// is a warning otherwise. Every problem of the file is reported at once; nothing is applied then.
import { parseAllDocuments, stringify } from 'yaml';
import { formatSelector, parseSelectorString } from '../server-lite/fleet/label-selector.ts';
import { durationSeconds } from './duration.ts';

export const FLEET_API_VERSION = 'fleet.cattle.io/v1alpha1';
const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface GitRepoBody {
  name: string;
  repo: string;
  branch?: string;
  revision?: string;
  paths?: string[];
  pollIntervalSeconds?: number;
  targets?: string[];
  /** Source credentials by secret name, as Fleet names them (issue 19). */
  clientSecretName?: string;
  helmSecretName?: string;
  helmRepoURLRegex?: string;
  /** PEM (Fleet's YAML carries it base64-encoded; both are read). */
  caBundle?: string;
  insecureSkipTLSVerify?: boolean;
}

export interface ClusterGroupBody {
  name: string;
  selector: string;
}

export interface FleetResources {
  gitrepos: GitRepoBody[];
  clustergroups: ClusterGroupBody[];
  warnings: string[];
  errors: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** GitRepo spec fields Drover does not implement: refused (what or where would change) or warned. */
const GITREPO_UNSUPPORTED: Record<string, { refuse: boolean; reason: string }> = {
  paused: { refuse: true, reason: 'Drover pauses per bundle (fleet.yaml paused: true); the gitrepo would roll out' },
  keepResources: { refuse: true, reason: 'set keepResources in each fleet.yaml; deleting the gitrepo would prune otherwise' },
  correctDrift: { refuse: true, reason: 'set correctDrift in each fleet.yaml; drift would stay uncorrected otherwise' },
  targetNamespace: { refuse: true, reason: 'set namespace in each fleet.yaml; objects would land in other namespaces otherwise' },
  helmSecretNameForPaths: { refuse: true, reason: 'Helm repository credentials per path are not supported; use helmSecretName with helmRepoURLRegex' },
  ociRegistry: { refuse: true, reason: 'OCI bundle storage is not supported' },
  serviceAccount: { refuse: false, reason: 'Drover applies as the fleet agent itself' },
  forceSyncGeneration: { refuse: false, reason: 'apply the bundle again to force one' },
  imageScanInterval: { refuse: false, reason: 'Drover does not scan images' },
  imageScanCommit: { refuse: false, reason: 'Drover does not scan images' },
  deleteNamespace: { refuse: false, reason: 'Drover never deletes namespaces' },
  webhookSecret: { refuse: false, reason: 'Drover reads the webhook secret from DROVER_FLEET_WEBHOOK_SECRET on the server' },
};
const GITREPO_FIELDS = new Set(['repo', 'branch', 'revision', 'paths', 'targets', 'pollingInterval', 'disablePolling', 'clientSecretName', 'helmSecretName', 'helmRepoURLRegex', 'caBundle', 'insecureSkipTLSVerify']);

/** The target in Drover's `--target` form, 'all' for a selector matching everything, undefined after an error. */
function targetOf(t: unknown, where: string, errors: string[]): string | 'all' | undefined {
  if (!isObj(t)) {
    errors.push(`${where}: a target is a mapping`);
    return undefined;
  }
  if (t.clusterGroupSelector !== undefined) {
    errors.push(`${where}.clusterGroupSelector is not supported: Drover targets by clusterName, clusterSelector or clusterGroup`);
    return undefined;
  }
  const set = (['clusterName', 'clusterSelector', 'clusterGroup'] as const).filter((k) => t[k] !== undefined && t[k] !== null && t[k] !== '');
  if (set.length !== 1) {
    errors.push(`${where}: Drover's gitrepo targets take exactly one of clusterName, clusterSelector, clusterGroup (got ${set.join(', ') || 'none'})`);
    return undefined;
  }
  if (set[0] === 'clusterName') return `cluster=${String(t.clusterName)}`;
  if (set[0] === 'clusterGroup') return `group=${String(t.clusterGroup)}`;
  if (!isObj(t.clusterSelector)) {
    errors.push(`${where}.clusterSelector is not a label selector`);
    return undefined;
  }
  const sel = formatSelector(t.clusterSelector as Parameters<typeof formatSelector>[0]);
  // `{}` matches every cluster, which is what no target means to Drover.
  return sel === '(everything)' ? 'all' : sel;
}

function gitRepo(doc: Obj, where: string, out: FleetResources): void {
  const name = (doc.metadata as Obj | undefined)?.name;
  const spec = isObj(doc.spec) ? doc.spec : {};
  if (typeof name !== 'string' || !NAME.test(name)) out.errors.push(`${where}: metadata.name must be a DNS label (got ${JSON.stringify(name)})`);
  if (typeof spec.repo !== 'string' || spec.repo === '') out.errors.push(`${where}: spec.repo is required`);
  const ns = (doc.metadata as Obj | undefined)?.namespace;
  if (typeof ns === 'string' && ns !== 'fleet-default' && ns !== 'fleet-local') out.warnings.push(`${where}: namespace ${ns} (a Fleet workspace) is ignored: Drover has one`);
  for (const [k, v] of Object.entries(spec)) {
    if (v === null || v === '' || v === false) continue;
    const u = GITREPO_UNSUPPORTED[k];
    if (u) (u.refuse ? out.errors : out.warnings).push(`${where}: spec.${k} ${u.refuse ? 'is not supported' : 'is ignored'}: ${u.reason}`);
    else if (!GITREPO_FIELDS.has(k)) out.warnings.push(`${where}: spec.${k} is not a GitRepo field Drover knows; ignored`);
  }
  const body: GitRepoBody = { name: String(name), repo: String(spec.repo ?? '') };
  if (typeof spec.branch === 'string' && spec.branch !== '') body.branch = spec.branch;
  if (typeof spec.revision === 'string' && spec.revision !== '') body.revision = spec.revision;
  if (Array.isArray(spec.paths) && spec.paths.length > 0) body.paths = spec.paths.map(String);
  for (const k of ['clientSecretName', 'helmSecretName', 'helmRepoURLRegex'] as const) if (typeof spec[k] === 'string' && spec[k] !== '') body[k] = spec[k];
  if (typeof spec.caBundle === 'string' && spec.caBundle !== '') {
    body.caBundle = spec.caBundle.includes('-----BEGIN') ? spec.caBundle : Buffer.from(spec.caBundle, 'base64').toString('utf8');
    if (!body.caBundle.includes('-----BEGIN CERTIFICATE-----')) out.errors.push(`${where}: spec.caBundle is neither PEM nor base64 of PEM`);
  }
  if (spec.insecureSkipTLSVerify === true) body.insecureSkipTLSVerify = true;
  if (spec.disablePolling === true) {
    body.pollIntervalSeconds = 86_400;
    out.warnings.push(`${where}: disablePolling: Drover polls once a day and on webhooks`);
  } else if (typeof spec.pollingInterval === 'string' && spec.pollingInterval !== '') {
    const s = durationSeconds(spec.pollingInterval);
    if (s === undefined || s < 1 || s > 86_400) out.errors.push(`${where}: spec.pollingInterval ${spec.pollingInterval} is not a duration between 1s and 24h`);
    else body.pollIntervalSeconds = s;
  }
  if (Array.isArray(spec.targets)) {
    const targets = spec.targets.map((t, i) => targetOf(t, `${where}: spec.targets[${i}]`, out.errors));
    // A `{}` selector among the targets means every cluster: no restriction at all.
    if (!targets.includes('all')) {
      const concrete = targets.filter((t): t is string => t !== undefined && t !== 'all');
      if (concrete.length > 0) body.targets = concrete;
    }
  }
  out.gitrepos.push(body);
}

function clusterGroup(doc: Obj, where: string, out: FleetResources): void {
  const name = (doc.metadata as Obj | undefined)?.name;
  const spec = isObj(doc.spec) ? doc.spec : {};
  if (typeof name !== 'string' || !NAME.test(name)) out.errors.push(`${where}: metadata.name must be a DNS label (got ${JSON.stringify(name)})`);
  if (!isObj(spec.selector)) {
    out.errors.push(`${where}: spec.selector is required`);
    return;
  }
  const selector = formatSelector(spec.selector as Parameters<typeof formatSelector>[0]);
  if (selector === '(everything)') {
    out.errors.push(`${where}: an empty spec.selector would put every cluster in the group; name the labels`);
    return;
  }
  out.clustergroups.push({ name: String(name), selector });
}

/** Reads a file of Fleet resources; `file` names it in every message. */
export function readFleetResources(text: string, file: string): FleetResources {
  const out: FleetResources = { gitrepos: [], clustergroups: [], warnings: [], errors: [] };
  const docs = parseAllDocuments(text);
  docs.forEach((d, i) => {
    const where = `${file}#${i + 1}`;
    const err = d.errors[0];
    if (err) {
      out.errors.push(`${where}: ${err.message.split('\n')[0]}`);
      return;
    }
    const doc: unknown = d.toJS();
    if (doc === null || doc === undefined) return;
    if (!isObj(doc)) {
      out.errors.push(`${where}: not a Kubernetes object`);
      return;
    }
    const label = `${where} (${String(doc.kind)} ${String((doc.metadata as Obj | undefined)?.name ?? '')})`;
    if (doc.apiVersion !== FLEET_API_VERSION) {
      out.errors.push(`${label}: apiVersion must be ${FLEET_API_VERSION}`);
      return;
    }
    if (doc.kind === 'GitRepo') gitRepo(doc, label, out);
    else if (doc.kind === 'ClusterGroup') clusterGroup(doc, label, out);
    else if (doc.kind === 'Bundle') out.errors.push(`${label}: Fleet makes Bundle objects from sources; apply the source with \`drover bundle apply DIR\` or a GitRepo`);
    else out.errors.push(`${label}: kind ${String(doc.kind)} is not supported (GitRepo, ClusterGroup)`);
  });
  const names = out.gitrepos.map((g) => g.name);
  for (const n of new Set(names.filter((n, i) => names.indexOf(n) !== i))) out.errors.push(`${file}: GitRepo ${n} appears twice`);
  return out;
}

/** A Drover gitrepo in Fleet's GitRepo form (what `drover gitrepo get NAME -o yaml` prints). */
export function gitRepoYaml(g: { name: string; repo: string; branch?: string | undefined; revision?: string | undefined; paths?: string[] | undefined; pollIntervalSeconds?: number | undefined; targets?: string[] | undefined; clientSecretName?: string | undefined; helmSecretName?: string | undefined; helmRepoURLRegex?: string | undefined; caBundle?: string | undefined; insecureSkipTLSVerify?: boolean | undefined }): string {
  const targets = (g.targets ?? []).map((t, i) => {
    const m = /^(cluster|group)=(.+)$/.exec(t);
    if (m?.[1] === 'cluster') return { name: `target-${i}`, clusterName: m[2] };
    if (m?.[1] === 'group') return { name: `target-${i}`, clusterGroup: m[2] };
    return { name: `target-${i}`, clusterSelector: parseSelectorString(t) };
  });
  const spec: Obj = { repo: g.repo };
  if (g.branch) spec.branch = g.branch;
  if (g.revision) spec.revision = g.revision;
  if (g.paths && g.paths.length > 0) spec.paths = g.paths;
  if (g.pollIntervalSeconds !== undefined) spec.pollingInterval = `${g.pollIntervalSeconds}s`;
  if (targets.length > 0) spec.targets = targets;
  for (const k of ['clientSecretName', 'helmSecretName', 'helmRepoURLRegex'] as const) if (g[k]) spec[k] = g[k];
  // Fleet's caBundle is []byte: base64 in YAML.
  if (g.caBundle) spec.caBundle = Buffer.from(g.caBundle).toString('base64');
  if (g.insecureSkipTLSVerify) spec.insecureSkipTLSVerify = true;
  return stringify({ apiVersion: FLEET_API_VERSION, kind: 'GitRepo', metadata: { name: g.name }, spec });
}
