// Applies the RBAC set the server sends on `http:drover-rbac` (PUT /v1/rbac {"objects": […]}):
// each ClusterRole/ClusterRoleBinding by server-side apply as the agent itself (field manager
// `drover`), then deletes every object carrying the drover managed-by label that is not in the
// set, so unbinding removes access. Only drover-named RBAC objects are accepted: the server cannot
// use this target to write anything else with the agent's credentials.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { KubeUpstream } from './kube-upstream.ts';

export const MANAGED_LABEL = 'app.kubernetes.io/managed-by';
const MANAGED_VALUE = 'drover';
const MAX_BODY = 1024 * 1024;

const KINDS = Object.freeze({
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
} as const);
type Kind = keyof typeof KINDS;

interface RbacObject {
  apiVersion: string;
  kind: Kind;
  metadata: { name: string; labels?: Record<string, string> };
}

/** Checks the set; returns a reason for the first object that is not ours to write. */
export function checkRbacSet(value: unknown): { ok: true; objects: RbacObject[] } | { ok: false; reason: string } {
  const objects = (value as { objects?: unknown } | null)?.objects;
  if (!Array.isArray(objects)) return { ok: false, reason: 'body must be {"objects": [...]}' };
  for (const o of objects as RbacObject[]) {
    if (o?.apiVersion !== 'rbac.authorization.k8s.io/v1' || !(o.kind in KINDS)) return { ok: false, reason: `not a ClusterRole/ClusterRoleBinding: ${JSON.stringify(o).slice(0, 100)}` };
    if (!/^drover-[a-z0-9-]{1,60}$/.test(o.metadata?.name ?? '')) return { ok: false, reason: `name must start with drover-: ${o.metadata?.name}` };
    if (o.metadata.labels?.[MANAGED_LABEL] !== MANAGED_VALUE) return { ok: false, reason: `${o.metadata.name} lacks ${MANAGED_LABEL}=${MANAGED_VALUE}` };
  }
  return { ok: true, objects: objects as RbacObject[] };
}

const base = '/apis/rbac.authorization.k8s.io/v1';

export async function applyRbacSet(kube: KubeUpstream, objects: readonly RbacObject[]): Promise<{ applied: number; deleted: string[] }> {
  // ClusterRoles first, so a binding never points at a role that does not exist yet.
  const ordered = [...objects].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'ClusterRole' ? -1 : 1));
  for (const o of ordered) {
    const path = `${base}/${KINDS[o.kind]}/${o.metadata.name}?fieldManager=drover&force=true`;
    const r = await kube.json('PATCH', path, o, 'application/apply-patch+yaml');
    if (r.status >= 300) throw new Error(`apply ${o.kind} ${o.metadata.name}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  }
  const deleted: string[] = [];
  for (const [kind, resource] of Object.entries(KINDS)) {
    const wanted = new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name));
    const list = await kube.json('GET', `${base}/${resource}?labelSelector=${encodeURIComponent(`${MANAGED_LABEL}=${MANAGED_VALUE}`)}`);
    if (list.status !== 200) throw new Error(`list ${resource}: ${list.status}`);
    for (const item of (list.body as { items?: { metadata: { name: string } }[] }).items ?? []) {
      if (wanted.has(item.metadata.name)) continue;
      const r = await kube.json('DELETE', `${base}/${resource}/${item.metadata.name}`);
      if (r.status >= 300 && r.status !== 404) throw new Error(`delete ${kind} ${item.metadata.name}: ${r.status}`);
      deleted.push(`${kind}/${item.metadata.name}`);
    }
  }
  return { applied: objects.length, deleted };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function rbacHandler(kube: KubeUpstream, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'PUT' || req.url !== '/v1/rbac') {
      req.resume();
      answer(404, { error: 'PUT /v1/rbac only' });
      return;
    }
    void (async () => {
      try {
        const check = checkRbacSet(JSON.parse(await readBody(req)));
        if (!check.ok) return answer(400, { error: check.reason });
        const result = await applyRbacSet(kube, check.objects);
        log.info({ applied: result.applied, deleted: result.deleted }, 'RBAC set applied');
        answer(200, result);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'applying the RBAC set failed');
        answer(502, { error: (err as Error).message });
      }
    })();
  };
}
