// `Kube` over HTTPS to the kube-apiserver: credentials from a kubeconfig (agents/common/kubeconfig.ts),
// raw JSON requests on one keep-alive agent, discovery
// cached per apiVersion and re-read on a miss (a CRD applied a moment ago must become usable).
import { Agent, request } from 'node:https';
import { loadKubeconfig } from '../common/kubeconfig.ts';
import type { Kube, ListOptions, ResourceInfo, WatchEvent, WatchScope } from './kube.ts';
import type { KubeObject, ObjectRef } from './types.ts';
import { FleetAgentError } from './errors.ts';
import { FIELD_MANAGER, FLEET_AGENT_LIMITS } from './limits.ts';
import { apiVersionOf, refOf } from './object-ref.ts';

interface Answer { status: number; body: string }
interface ApiResourceList { resources?: { name: string; kind: string; namespaced: boolean }[] }

const selectorQuery = (opts: ListOptions): string => (opts.labelSelector ? `&labelSelector=${encodeURIComponent(opts.labelSelector)}` : '');

export async function createHttpsKube(kubeconfig: string): Promise<Kube> {
  const target = await loadKubeconfig(kubeconfig);
  const agent = new Agent({ keepAlive: true, maxSockets: FLEET_AGENT_LIMITS.KUBE_CONCURRENCY, ...target.tls });
  // Watches hold their socket for minutes: their own agent, so they never take one of the
  // KUBE_CONCURRENCY sockets the reconcile pass reads and applies through.
  const watchAgent = new Agent({ keepAlive: false, ...target.tls });
  const base = target.server.href.replace(/\/+$/, '');
  const headers = target.headers;

  function call(method: string, path: string, body?: string, contentType = 'application/json'): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(`${base}${path}`, {
        method, agent, timeout: FLEET_AGENT_LIMITS.KUBE_REQUEST_TIMEOUT_MS,
        // An explicit length: Go's server answered 400 to a chunked DELETE body on a reused socket.
        headers: { ...headers, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) }) },
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > FLEET_AGENT_LIMITS.KUBE_MAX_RESPONSE_BYTES) res.destroy(new FleetAgentError('KUBE_RESPONSE_TOO_LARGE', `${method} ${path}: over ${FLEET_AGENT_LIMITS.KUBE_MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', (err) => reject(err instanceof FleetAgentError ? err : new FleetAgentError('KUBE_UNREACHABLE', `${method} ${path}: ${err.message}`, { cause: err })));
      req.end(body);
    });
  }

  const message = (a: Answer): string => {
    try { return (JSON.parse(a.body) as { message?: string }).message ?? a.body.slice(0, 300); } catch { return a.body.slice(0, 300); }
  };

  const discovery = new Map<string, ApiResourceList>();
  async function resource(ref: Pick<ObjectRef, 'group' | 'version' | 'kind'>): Promise<ResourceInfo | undefined> {
    const av = apiVersionOf(ref);
    const find = (l: ApiResourceList | undefined): ResourceInfo | undefined => {
      const r = l?.resources?.find((x) => x.kind === ref.kind && !x.name.includes('/'));
      return r === undefined ? undefined : { plural: r.name, namespaced: r.namespaced };
    };
    const cached = find(discovery.get(av));
    if (cached) return cached;
    const a = await call('GET', ref.group === '' ? `/api/${ref.version}` : `/apis/${av}`);
    if (a.status === 404) return undefined;
    if (a.status !== 200) throw new FleetAgentError('KUBE_ERROR', `discovery of ${av}: HTTP ${a.status} ${message(a)}`);
    discovery.set(av, JSON.parse(a.body) as ApiResourceList);
    return find(discovery.get(av));
  }

  async function collectionOf(ref: Pick<ObjectRef, 'group' | 'version' | 'kind'> & { namespace: string | null }): Promise<string> {
    const info = await resource(ref);
    if (!info) throw new FleetAgentError('KIND_UNKNOWN', `the cluster does not serve ${apiVersionOf(ref)} ${ref.kind}`);
    const prefix = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
    // namespace null: the kind in every namespace (a watch scope spanning many of them).
    const ns = info.namespaced && ref.namespace !== null ? `/namespaces/${encodeURIComponent(ref.namespace || 'default')}` : '';
    return `${prefix}${ns}/${info.plural}`;
  }
  const pathOf = async (ref: ObjectRef): Promise<string> => `${await collectionOf(ref)}/${encodeURIComponent(ref.name)}`;

  return {
    resource,
    async apply(obj) {
      const path = await pathOf(refOf(obj));
      const a = await call('PATCH', `${path}?fieldManager=${FIELD_MANAGER}&force=true`, JSON.stringify(obj), 'application/apply-patch+yaml');
      if (a.status !== 200 && a.status !== 201) throw new FleetAgentError('APPLY_FAILED', `${obj.kind} ${obj.metadata.namespace ?? ''}/${obj.metadata.name}: HTTP ${a.status} ${message(a)}`);
      return JSON.parse(a.body) as KubeObject;
    },
    async get(ref) {
      const a = await call('GET', await pathOf(ref));
      if (a.status === 404) return undefined;
      if (a.status !== 200) throw new FleetAgentError('KUBE_ERROR', `GET ${ref.kind} ${ref.namespace}/${ref.name}: HTTP ${a.status} ${message(a)}`);
      return JSON.parse(a.body) as KubeObject;
    },
    async list(scope, opts: ListOptions = {}) {
      const base = await collectionOf(scope);
      const items: KubeObject[] = [];
      let token: string | undefined;
      do {
        const q = `?limit=${FLEET_AGENT_LIMITS.LIST_PAGE}${selectorQuery(opts)}${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
        const a = await call('GET', `${base}${q}`);
        if (a.status !== 200) throw new FleetAgentError('KUBE_ERROR', `LIST ${scope.kind} ${scope.namespace}: HTTP ${a.status} ${message(a)}`);
        const page = JSON.parse(a.body) as { items?: KubeObject[]; metadata?: { continue?: string } };
        for (const it of page.items ?? []) items.push({ ...it, apiVersion: apiVersionOf(scope), kind: scope.kind });
        token = page.metadata?.continue || undefined;
      } while (token !== undefined);
      return items;
    },
    async delete(ref) {
      const a = await call('DELETE', await pathOf(ref), JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' }));
      if (a.status === 404) return false;
      if (a.status !== 200 && a.status !== 202) throw new FleetAgentError('PRUNE_FAILED', `${ref.kind} ${ref.namespace}/${ref.name}: HTTP ${a.status} ${message(a)}`);
      return true;
    },
    async collectionVersion(scope: WatchScope, opts: ListOptions) {
      const a = await call('GET', `${await collectionOf(scope)}?limit=1${selectorQuery(opts)}`);
      if (a.status !== 200) throw new FleetAgentError('KUBE_ERROR', `LIST ${scope.kind} ${scope.namespace ?? '*'}: HTTP ${a.status} ${message(a)}`);
      return String((JSON.parse(a.body) as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? '');
    },
    watch(scope, opts, handlers) {
      let req: ReturnType<typeof request> | undefined;
      let ended = false;
      const end = (err?: { status?: number; message: string }): void => {
        if (ended) return;
        ended = true;
        req?.destroy();
        handlers.end(err);
      };
      collectionOf(scope).then((path) => {
        if (ended) return;
        const q = `?watch=1&allowWatchBookmarks=true&timeoutSeconds=${opts.timeoutSeconds}&resourceVersion=${encodeURIComponent(opts.resourceVersion)}${selectorQuery(opts)}`;
        req = request(`${base}${path}${q}`, { method: 'GET', agent: watchAgent, headers: { ...headers, accept: 'application/json' } }, (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return end({ status: res.statusCode ?? 0, message: `watch answered HTTP ${res.statusCode}` });
          }
          let buffered = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffered += chunk;
            if (buffered.length > FLEET_AGENT_LIMITS.WATCH_MAX_EVENT_BYTES) return end({ message: 'watch event over WATCH_MAX_EVENT_BYTES' });
            let nl: number;
            while (!ended && (nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl);
              buffered = buffered.slice(nl + 1);
              if (line.trim() === '') continue;
              let e: WatchEvent;
              try { e = JSON.parse(line) as WatchEvent; } catch { return end({ message: 'unreadable watch event' }); }
              handlers.event(e);
            }
          });
          res.on('end', () => end());
          res.on('error', (err) => end({ message: err.message }));
        });
        // No event or bookmark for this long past the asked timeout: the connection is dead.
        req.setTimeout((opts.timeoutSeconds + 60) * 1000, () => end({ message: 'watch idle past its timeout' }));
        req.on('error', (err) => end({ message: err.message }));
        req.end();
      }, (err: unknown) => end({ message: err instanceof Error ? err.message : String(err) }));
      return { stop: () => { ended = true; req?.destroy(); } };
    },
    close: () => {
      agent.destroy();
      watchAgent.destroy();
    },
  };
}
