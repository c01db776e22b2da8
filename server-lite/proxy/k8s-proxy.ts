// The authenticating Kubernetes proxy (ARCHITECTURE.md §2.3): `/k8s/clusters/{id}/…` requests and
// upgrades are authenticated, checked against the caller's Drover roles (a cluster the caller has
// no role on does not exist for them: 404, and nothing is sent to its agent), stripped of the
// bearer token and any Impersonate-*, and sent down a tunnel stream to the cluster's agent: an idle
// keep-alive stream of the session's pool when the agent lists HTTP_KEEPALIVE (decision 1200), else
// a new stream per request; upgrades, watches and `logs -f` always get a new stream of their own.
// The caller's identity travels in the stream's OPEN metadata (a stream of its own) or in the
// request's X-Drover-User/-Groups (a pooled stream, set here per request, never inherited); the
// agent turns it into Impersonate-* headers, so the cluster's RBAC decides. Closing the client
// closes the stream (and the agent's upstream request). Every request leaves one audit row when its
// response head is known.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';
import { KUBE_API_TARGET, KUBE_IDENTITY_HEADERS, KUBE_IDENTITY_METADATA, kubeIdentityOf, requestOverStream, systemClock, type Clock as TimerClock, type StreamHttpResult } from '../../protocol/index.ts';
import { ServerError, errorBody } from '../errors.ts';
import type { ServerContext } from '../context.ts';
import { authenticateUser } from '../auth/guard.ts';
import type { Principal } from '../auth/principal.ts';
import { forwardHeaders, kubeVerb, parseProxyUrl, responseHeaders } from './request-shape.ts';
import { checkImpersonation, readImpersonation } from './impersonation.ts';
import { kubePath } from './kube-fallback.ts';
import type { GlobalRole } from '../store/store.ts';
import { GrantCache } from '../rbac/grant-cache.ts';
import type { SessionHandle } from '../tunnel/session-registry.ts';
import { isStreamingRequest, streamPools } from './stream-pools.ts';

/** OPEN metadata keys the cluster agent reads (docs/api.md, "Proxy"). */
export const IDENTITY_METADATA = KUBE_IDENTITY_METADATA;

interface Admitted {
  principal: Principal;
  /** The Drover user a global admin acts as (kubectl --as), if any. */
  impersonated: string | undefined;
  clusterId: string;
  path: string;
  session: SessionHandle;
  /** The Kubernetes identity the agent impersonates. */
  kube: { user: string; groups: string[] };
}

/** Whether a request has a body to send (GET/HEAD/DELETE from kubectl have none). */
function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

/** `timers`: the idle timeouts of the keep-alive stream pools (tests pass a ManualClock). */
export function createK8sProxy(ctx: ServerContext, opts: { timers?: TimerClock; maxIdlePerTarget?: number; idleTimeoutMs?: number } = {}) {
  const pools = streamPools(opts.timers ?? systemClock, opts);
  // listBindings (a UNION of direct and group bindings, sorted) was ~20 % of a proxied GET's
  // server CPU (issue 12); the project lookup is needed only when no cluster role is held.
  const grants = new GrantCache({
    generation: () => ctx.store.authzGeneration(),
    load: async (userName, clusterId) => {
      const roles = (await ctx.store.listBindings({ clusterId, userName })).map((b) => b.role);
      return { roles, viaProject: roles.length === 0 && (await ctx.store.listProjectBindings({ clusterId, userName })).length > 0 };
    },
  });
  /** Authenticates, authorises and opens the stream; throws ServerErrors for the refusals. */
  /** The identity a request runs as on the cluster: the caller's, or (admins, --as) a Drover user's. */
  async function identityFor(req: IncomingMessage, principal: Principal, clusterId: string, onImpersonated: (user: string) => void) {
    const asked = readImpersonation(req);
    let user = principal.user;
    let globalRole: GlobalRole = principal.globalRole;
    let onlyGroups: string[] | undefined;
    if (asked) {
      const target = checkImpersonation(principal.user, principal.globalRole, asked);
      const record = await ctx.store.getUser(target.user);
      if (!record) throw new ServerError('IMPERSONATION_FORBIDDEN', `--as ${target.user}: no Drover user of that name (see drover user list)`);
      onImpersonated(record.name);
      user = record.name;
      globalRole = record.globalRole;
      onlyGroups = target.groups;
    }
    // Cached per (user, cluster) under the store's authorisation generation (decision 1150).
    const held = await grants.get(user, clusterId);
    // A project role makes the cluster visible too; Kubernetes RBAC then limits the user to the
    // project's namespaces (the RoleBindings there are all the user holds).
    const visible = globalRole === 'admin' || held.roles.length > 0 || held.viaProject;
    // One rule for the proxy and the cluster agent's local endpoint (protocol/kube-identity.ts).
    const kube = kubeIdentityOf(user, globalRole, held.roles);
    return { user: kube.user, visible, groups: onlyGroups ?? kube.groups, impersonated: asked ? user : undefined };
  }

  async function admit(req: IncomingMessage, onPrincipal: (p: Principal) => void, onImpersonated: (user: string) => void): Promise<Admitted> {
    const target = parseProxyUrl(req.url ?? '');
    if (!target) throw new ServerError('NOT_FOUND', `no such resource: ${req.url ?? ''}`);
    const principal = await authenticateUser(ctx, req);
    onPrincipal(principal);
    const id = await identityFor(req, principal, target.clusterId, onImpersonated);
    // Invisible and non-existent clusters answer alike, so ids cannot be probed.
    if (!id.visible || !(await ctx.store.getCluster(target.clusterId))) {
      const who = id.impersonated ? `that user ${id.impersonated} may see` : 'that you may see';
      throw new ServerError('CLUSTER_NOT_FOUND', `no cluster ${target.clusterId} ${who}`);
    }
    // The cluster agent, or while it is down one of the cluster's node agents (kube-fallback.ts).
    const session = (await kubePath(ctx, target.clusterId))?.session;
    if (!session?.openStream) throw new ServerError('CLUSTER_UNAVAILABLE', `the agent of cluster ${target.clusterId} is not connected (nor a node agent that can reach its Kubernetes API)`);
    return { principal, impersonated: id.impersonated, clusterId: target.clusterId, path: target.path, session, kube: { user: id.user, groups: id.groups } };
  }

  /** A stream of its own for one exchange, the caller named in its OPEN metadata. */
  function ownStream(a: Admitted) {
    const open = a.session.openStream;
    if (!open) throw new ServerError('CLUSTER_UNAVAILABLE', `the agent of cluster ${a.clusterId} is not connected`);
    return open.call(a.session, KUBE_API_TARGET, { [IDENTITY_METADATA.user]: a.kube.user, [IDENTITY_METADATA.groups]: JSON.stringify(a.kube.groups) });
  }

  /** Sends an ordinary request: on a pooled keep-alive stream when the agent can, else on its own. */
  async function exchange(a: Admitted, req: IncomingMessage, method: string, signal: AbortSignal): Promise<{ result: StreamHttpResult; abort: () => void }> {
    const headers: OutgoingHttpHeaders = forwardHeaders(req.headers, false);
    const pool = isStreamingRequest(a.path) ? undefined : pools.poolFor(a.session);
    if (pool === undefined) {
      const stream = ownStream(a);
      stream.on('error', () => {});
      if (signal.aborted) stream.destroy();
      const onAbort = () => stream.destroy();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        return { result: await requestOverStream(stream, { method, path: a.path, headers, body: req }), abort: () => stream.destroy() };
      } catch (err) {
        stream.destroy();
        throw err;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    }
    // Per request, never from the stream: two callers on one pooled stream each get their own.
    headers[KUBE_IDENTITY_HEADERS.user] = a.kube.user;
    headers[KUBE_IDENTITY_HEADERS.groups] = JSON.stringify(a.kube.groups);
    // `abort` (not the stream itself): once read to its end the stream may already carry another
    // caller's request, and a client going away after that must not destroy it.
    const { result, abort } = await pool.request(KUBE_API_TARGET, { method, path: a.path, headers, ...(hasBody(req) ? { body: req } : {}) }, { signal });
    return { result, abort };
  }

  function record(
    p: Principal | undefined,
    impersonated: string | undefined,
    clusterId: string | null,
    method: string,
    path: string,
    status: number,
    at: number,
    t0: number,
    kind: 'request' | 'upgrade' = 'request',
    code?: string,
  ): void {
    ctx.metrics.proxyRequests.inc({ kind, result: code ?? `${Math.floor(status / 100)}xx` });
    ctx.audit.record({
      at,
      user: p?.user ?? 'anonymous',
      idp: p?.idp ?? 'none',
      ...(p?.provider ? { provider: p.provider } : {}),
      clusterId,
      verb: kubeVerb(method, path),
      path: path.split('?')[0] ?? path,
      status,
      latencyMs: Math.round((performance.now() - t0) * 10) / 10,
      ...(impersonated ? { impersonated } : {}),
    });
  }

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = ctx.clock.now();
    const t0 = performance.now();
    const method = req.method ?? 'GET';
    let principal: Principal | undefined;
    let impersonated: string | undefined;
    const parsed = parseProxyUrl(req.url ?? '');
    let admitted: Admitted;
    try {
      admitted = await admit(req, (p) => (principal = p), (u) => (impersonated = u));
    } catch (err) {
      const e = err instanceof ServerError ? err : new ServerError('INTERNAL');
      if (!(err instanceof ServerError)) ctx.log.error({ err }, 'proxy admission failed');
      req.resume();
      sendProxyError(res, e);
      record(principal, impersonated, parsed?.clusterId ?? null, method, parsed?.path ?? req.url ?? '', e.status, at, t0, 'request', e.code);
      return;
    }
    const { clusterId, path } = admitted;
    // The client went away (kubectl Ctrl-C, watch cancelled): close the stream, so the agent
    // aborts its request to the kube-apiserver (a destroyed stream is never pooled again).
    const gone = new AbortController();
    let abort: (() => void) | undefined;
    res.on('close', () => {
      if (res.writableFinished) return;
      gone.abort();
      abort?.();
    });
    try {
      const sent = await exchange(admitted, req, method, gone.signal);
      abort = sent.abort;
      const result = sent.result;
      if (gone.signal.aborted) abort();
      if (result.kind !== 'response') throw new ServerError('UPSTREAM_FAILED', 'the agent answered a plain request with an upgrade');
      const upstream = result.response;
      const status = upstream.statusCode ?? 502;
      res.writeHead(status, responseHeaders(upstream.headers));
      // Watches and `logs -f` (no length): the head goes out at once and each chunk as it comes;
      // an answer of known length goes out with its body, one TLS write instead of two (issue 12).
      if (upstream.headers['content-length'] === undefined) res.flushHeaders();
      record(principal, impersonated, clusterId, method, path, status, at, t0);
      upstream.on('error', () => res.destroy());
      upstream.pipe(res);
    } catch (err) {
      abort?.();
      const e = err instanceof ServerError ? err : new ServerError('UPSTREAM_FAILED', `the request to cluster ${clusterId} failed: ${(err as Error).message}`);
      sendProxyError(res, e);
      record(principal, impersonated, clusterId, method, path, e.status, at, t0, 'request', e.code);
    }
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const at = ctx.clock.now();
    const t0 = performance.now();
    const method = req.method ?? 'GET';
    let principal: Principal | undefined;
    let impersonated: string | undefined;
    const parsed = parseProxyUrl(req.url ?? '');
    socket.on('error', () => socket.destroy());
    let admitted: Admitted;
    try {
      admitted = await admit(req, (p) => (principal = p), (u) => (impersonated = u));
    } catch (err) {
      const e = err instanceof ServerError ? err : new ServerError('INTERNAL');
      writeRawError(socket, e);
      record(principal, impersonated, parsed?.clusterId ?? null, method, parsed?.path ?? req.url ?? '', e.status, at, t0, 'upgrade', e.code);
      return;
    }
    const { clusterId, path } = admitted;
    let stream: Duplex;
    try {
      stream = ownStream(admitted);
    } catch (err) {
      const e = err instanceof ServerError ? err : new ServerError('INTERNAL');
      writeRawError(socket, e);
      record(principal, impersonated, clusterId, method, path, e.status, at, t0, 'upgrade', e.code);
      return;
    }
    stream.on('error', () => socket.destroy());
    socket.on('close', () => stream.destroy());
    try {
      const result = await requestOverStream(stream, { method, path, headers: forwardHeaders(req.headers, true) });
      const r = result.response;
      const status = r.statusCode ?? 502;
      const lines = [`HTTP/1.1 ${status} ${r.statusMessage || STATUS_CODES[status] || ''}`];
      for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) {
        const name = r.rawHeaders[i] ?? '';
        // A refusal (e.g. RBAC 403) is re-framed by us: its body is read to the end below.
        if (result.kind === 'response' && /^(transfer-encoding|content-length|connection)$/i.test(name)) continue;
        lines.push(`${name}: ${r.rawHeaders[i + 1] ?? ''}`);
      }
      record(principal, impersonated, clusterId, method, path, status, at, t0, 'upgrade');
      if (result.kind === 'upgrade') {
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (result.head.length > 0) socket.write(result.head);
        if (head.length > 0) result.socket.write(head);
        result.socket.on('error', () => socket.destroy());
        result.socket.pipe(socket);
        socket.pipe(result.socket);
        return;
      }
      socket.write(`${lines.join('\r\n')}\r\nconnection: close\r\n\r\n`);
      r.pipe(socket);
    } catch (err) {
      stream.destroy();
      const e = err instanceof ServerError ? err : new ServerError('UPSTREAM_FAILED', `the upgrade to cluster ${clusterId} failed: ${(err as Error).message}`);
      writeRawError(socket, e);
      record(principal, impersonated, clusterId, method, path, e.status, at, t0, 'upgrade', e.code);
    }
  }

  return { handleRequest, handleUpgrade };
}

const STATUS_REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  413: 'RequestEntityTooLarge',
  503: 'ServiceUnavailable',
};

/**
 * The proxy's own refusals as a Kubernetes Status (so kubectl and client-go print the message, e.g.
 * `Error from server (Forbidden): …`), carrying Drover's `{"error":{"code","message"}}` too.
 */
export function proxyErrorBody(e: ServerError): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: e.message,
    reason: STATUS_REASONS[e.status] ?? 'InternalError',
    code: e.status,
    ...errorBody(e.code, e.message),
  };
}

function sendProxyError(res: ServerResponse, e: ServerError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(proxyErrorBody(e));
  res.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function writeRawError(socket: Duplex, e: ServerError): void {
  if (!socket.writable) return socket.destroy() as unknown as void;
  const text = JSON.stringify(proxyErrorBody(e));
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}
