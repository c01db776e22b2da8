// Applies the RBAC set the server sends on `http:drover-rbac` (PUT /v1/rbac {"objects": […]}):
// ClusterRoles, then ClusterRoleBindings, then each RoleBinding template into every namespace it
// belongs in (rbac-set.ts), each by server-side apply as the agent itself (field manager `drover`);
// then deletes every object carrying the drover managed-by label that is not in the set, so
// unbinding removes access and an upgrade replaces the wider roles of older versions. A binding
// whose roleRef changed (immutable in Kubernetes) is deleted and created again. While the set holds
// templates, a namespace watch puts them into namespaces created later.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { MAX_RBAC_SET_BYTES, readBounded, RBAC_API_VERSION, RBAC_PATH, targetError, type RbacApplied } from '../../protocol/index.ts';
import type { KubeUpstream } from './kube-upstream.ts';
import { NamespaceWatch } from './namespace-watch.ts';
import {
  checkRbacSet,
  instantiate,
  isFixedBinding,
  isTemplate,
  KINDS,
  MANAGED_LABEL,
  MANAGED_VALUE,
  namespaceInfo,
  templateApplies,
  type NamespaceInfo,
  type RbacObject,
} from './rbac-set.ts';

export { checkRbacSet, MANAGED_LABEL } from './rbac-set.ts';

const base = '/apis/rbac.authorization.k8s.io/v1';
const managed = `labelSelector=${encodeURIComponent(`${MANAGED_LABEL}=${MANAGED_VALUE}`)}`;

const objectPath = (o: RbacObject): string =>
  o.metadata.namespace === undefined
    ? `${base}/${KINDS[o.kind]}/${o.metadata.name}`
    : `${base}/namespaces/${encodeURIComponent(o.metadata.namespace)}/${KINDS[o.kind]}/${o.metadata.name}`;

const describe = (o: RbacObject): string => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

async function apply(kube: KubeUpstream, o: RbacObject): Promise<void> {
  const path = `${objectPath(o)}?fieldManager=drover&force=true`;
  let r = await kube.json('PATCH', path, o, 'application/apply-patch+yaml');
  if (r.status === 422 && o.kind !== 'ClusterRole' && /roleRef/i.test(JSON.stringify(r.body))) {
    // roleRef cannot change in place (a binding from an older role model): replace the binding.
    const d = await kube.json('DELETE', objectPath(o));
    if (d.status >= 300 && d.status !== 404) throw new Error(`replace ${describe(o)}: delete answered ${d.status}`);
    r = await kube.json('PATCH', path, o, 'application/apply-patch+yaml');
  }
  if (r.status >= 300) throw new Error(`apply ${describe(o)}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
}

async function listNamespaces(kube: KubeUpstream): Promise<{ namespaces: NamespaceInfo[]; resourceVersion: string }> {
  const r = await kube.json('GET', '/api/v1/namespaces');
  if (r.status !== 200) throw new Error(`list namespaces: ${r.status}`);
  const body = r.body as { items?: unknown[]; metadata?: { resourceVersion?: string } };
  return {
    namespaces: (body.items ?? []).map(namespaceInfo).filter((n): n is NamespaceInfo => n !== undefined),
    resourceVersion: body.metadata?.resourceVersion ?? '',
  };
}

export interface AppliedSet {
  applied: number;
  deleted: string[];
  /** resourceVersion of the namespace list the templates were applied from ('' without templates). */
  resourceVersion: string;
}

export async function applyRbacSet(kube: KubeUpstream, objects: readonly RbacObject[]): Promise<AppliedSet> {
  const order: Record<string, number> = { ClusterRole: 0, ClusterRoleBinding: 1, RoleBinding: 2 };
  const ordered = [...objects].filter((o) => o.kind !== 'RoleBinding').sort((a, b) => (order[a.kind] ?? 0) - (order[b.kind] ?? 0));
  // One object that cannot be applied (a quota, a webhook, a namespace going away) must not stop
  // the prune below: revoking access always happens. Failures are reported after it.
  const failed: string[] = [];
  const tryApply = async (o: RbacObject): Promise<boolean> => {
    try {
      await apply(kube, o);
      return true;
    } catch (err) {
      failed.push((err as Error).message);
      return false;
    }
  };
  const wanted = new Set(ordered.map((o) => `${o.kind}/${o.metadata.name}`));
  let applied = 0;
  for (const o of ordered) if (await tryApply(o)) applied++;
  const templates = objects.filter(isTemplate);
  const fixed = objects.filter(isFixedBinding);
  // Kept even where the namespace does not exist (yet): the namespace watch applies it when it appears.
  for (const o of fixed) wanted.add(`RoleBinding/${o.metadata.namespace}/${o.metadata.name}`);
  let resourceVersion = '';
  if (templates.length > 0 || fixed.length > 0) {
    const list = await listNamespaces(kube);
    resourceVersion = list.resourceVersion;
    for (const ns of list.namespaces) {
      for (const tpl of templates) {
        if (!templateApplies(tpl, ns)) continue;
        wanted.add(`RoleBinding/${ns.name}/${tpl.metadata.name}`);
        if (await tryApply(instantiate(tpl, ns.name))) applied++;
      }
      if (ns.terminating) continue;
      for (const o of fixed) if (o.metadata.namespace === ns.name && (await tryApply(o))) applied++;
    }
  }
  const deleted: string[] = [];
  for (const [kind, resource] of Object.entries(KINDS)) {
    const list = await kube.json('GET', `${base}/${resource}?${managed}`);
    if (list.status !== 200) throw new Error(`list ${resource}: ${list.status}`);
    for (const item of (list.body as { items?: { metadata: { name: string; namespace?: string } }[] }).items ?? []) {
      // Only our own names: another tool's object that happens to carry the label is not ours.
      if (!item.metadata.name.startsWith('drover-')) continue;
      const ns = item.metadata.namespace;
      if (wanted.has(ns ? `${kind}/${ns}/${item.metadata.name}` : `${kind}/${item.metadata.name}`)) continue;
      const o: RbacObject = { apiVersion: RBAC_API_VERSION, kind: kind as RbacObject['kind'], metadata: item.metadata };
      const r = await kube.json('DELETE', objectPath(o));
      if (r.status >= 300 && r.status !== 404) throw new Error(`delete ${describe(o)}: ${r.status}`);
      deleted.push(ns ? `${kind}/${ns}/${item.metadata.name}` : `${kind}/${item.metadata.name}`);
    }
  }
  if (failed.length > 0) throw new Error(`${failed.length} object(s) not applied (the rest applied, stale access pruned): ${failed.slice(0, 3).join('; ')}`);
  return { applied, deleted, resourceVersion };
}

/**
 * Puts the templates into one namespace that appeared or changed, or takes them out of it, and
 * applies the bindings meant for that namespace alone (project roles).
 */
async function applyToNamespace(kube: KubeUpstream, objects: readonly RbacObject[], ns: NamespaceInfo): Promise<void> {
  if (!ns.terminating) for (const o of objects.filter(isFixedBinding)) if (o.metadata.namespace === ns.name) await apply(kube, o);
  for (const tpl of objects.filter(isTemplate)) {
    const copy = instantiate(tpl, ns.name);
    if (templateApplies(tpl, ns)) await apply(kube, copy);
    else if (!ns.terminating) {
      const r = await kube.json('DELETE', objectPath(copy));
      if (r.status >= 300 && r.status !== 404) throw new Error(`delete ${describe(copy)}: ${r.status}`);
    }
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBounded(req, MAX_RBAC_SET_BYTES, 'body')).toString('utf8');
}

export function rbacHandler(kube: KubeUpstream, log: Logger) {
  /** The last set applied; every write goes through `serial`, so a watch event never races a push. */
  let current: RbacObject[] = [];
  let serial: Promise<unknown> = Promise.resolve();
  const queue = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = serial.then(fn, fn);
    serial = next.catch(() => undefined);
    return next;
  };
  /** What the namespace watch applies to a namespace that appears: templates and project bindings. */
  const templates = () => current.filter((o) => o.kind === 'RoleBinding');
  const watch = new NamespaceWatch({
    kube,
    log,
    relist: () => queue(async () => (await applyRbacSet(kube, current)).resourceVersion),
    changed: (ns) =>
      void queue(() => applyToNamespace(kube, templates(), ns)).catch((err: Error) =>
        log.warn({ namespace: ns.name, err: err.message }, 'applying RBAC to a new namespace failed'),
      ),
  });

  return (req: IncomingMessage, res: ServerResponse): void => {
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const refuse = (status: number, code: string, message: string) => json(status, targetError(code, message));
    if (req.method !== 'PUT' || req.url !== RBAC_PATH) {
      req.resume();
      refuse(404, 'NOT_FOUND', `PUT ${RBAC_PATH} only`);
      return;
    }
    void (async () => {
      // A body that is too large or not JSON is a bad set (400), not a failed apply (502).
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch (err) {
        return refuse(400, 'BAD_RBAC_SET', `the body is not a JSON RBAC set: ${(err as Error).message}`);
      }
      try {
        const check = checkRbacSet(body);
        if (!check.ok) return refuse(400, 'BAD_RBAC_SET', check.reason);
        const result = await queue(async () => {
          const r = await applyRbacSet(kube, check.objects);
          current = check.objects;
          return r;
        });
        if (templates().length > 0) watch.start(result.resourceVersion);
        else watch.stop();
        log.info({ applied: result.applied, deleted: result.deleted }, 'RBAC set applied');
        json(200, { applied: result.applied, deleted: result.deleted } satisfies RbacApplied);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'applying the RBAC set failed');
        refuse(502, 'RBAC_APPLY_FAILED', (err as Error).message);
      }
    })();
  };
}
