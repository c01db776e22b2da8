// The authenticating Kubernetes proxy (ARCHITECTURE.md §2.3): `/k8s/clusters/{id}/…` requests and
// upgrades are authenticated, checked against the caller's Drover roles (a cluster the caller has
// no role on does not exist for them: 404, and nothing is sent to its agent), stripped of the
// bearer token and any Impersonate-*, and sent down a new tunnel stream to the cluster's agent. The
// caller's identity travels in the stream's OPEN metadata; the agent turns it into Impersonate-*
// headers, so the cluster's RBAC decides. Closing the client closes the stream (and the agent's
// upstream request). Every request leaves one audit row when its response head is known.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { KUBE_API_TARGET, requestOverStream, type TunnelStream } from '../../protocol/index.ts';
import { ServerError, errorBody } from '../errors.ts';
import type { ServerContext } from '../context.ts';
import { authenticateUser } from '../auth/guard.ts';
import type { Principal } from '../auth/principal.ts';
import { clusterGroup, globalGroup, kubeUser } from '../rbac/desired.ts';
import { forwardHeaders, kubeVerb, parseProxyUrl, responseHeaders } from './request-shape.ts';

/** OPEN metadata keys the cluster agent reads (docs/api.md, "Proxy"). */
export const IDENTITY_METADATA = Object.freeze({ user: 'drover-user', groups: 'drover-groups' } as const);

interface Admitted {
  principal: Principal;
  clusterId: string;
  path: string;
  stream: TunnelStream;
}

export function createK8sProxy(ctx: ServerContext) {
  /** Authenticates, authorises and opens the stream; throws ServerErrors for the refusals. */
  async function admit(req: IncomingMessage, onPrincipal: (p: Principal) => void): Promise<Admitted> {
    const target = parseProxyUrl(req.url ?? '');
    if (!target) throw new ServerError('NOT_FOUND', `no such resource: ${req.url ?? ''}`);
    const principal = await authenticateUser(ctx, req);
    onPrincipal(principal);
    const bindings = await ctx.store.listBindings({ clusterId: target.clusterId, userName: principal.user });
    const visible = principal.globalRole === 'admin' || bindings.length > 0;
    // Invisible and non-existent clusters answer alike, so ids cannot be probed.
    if (!visible || !(await ctx.store.getCluster(target.clusterId))) {
      throw new ServerError('CLUSTER_NOT_FOUND', `no cluster ${target.clusterId} that you may see`);
    }
    const session = ctx.sessions.clusterSession(target.clusterId);
    if (!session?.openStream) throw new ServerError('CLUSTER_UNAVAILABLE', `the agent of cluster ${target.clusterId} is not connected`);
    const groups = ['drover:authenticated', globalGroup(principal.globalRole), ...bindings.map((b) => clusterGroup(b.role))];
    const stream = session.openStream(KUBE_API_TARGET, {
      [IDENTITY_METADATA.user]: kubeUser(principal.user),
      [IDENTITY_METADATA.groups]: JSON.stringify(groups),
    });
    return { principal, clusterId: target.clusterId, path: target.path, stream };
  }

  function record(p: Principal | undefined, clusterId: string | null, method: string, path: string, status: number, at: number, t0: number, kind: 'request' | 'upgrade' = 'request', code?: string): void {
    ctx.metrics.proxyRequests.inc({ kind, result: code ?? `${Math.floor(status / 100)}xx` });
    ctx.audit.record({
      at,
      user: p?.user ?? 'anonymous',
      idp: p?.idp ?? 'none',
      clusterId,
      verb: kubeVerb(method, path),
      path: path.split('?')[0] ?? path,
      status,
      latencyMs: Math.round((performance.now() - t0) * 10) / 10,
    });
  }

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = ctx.clock.now();
    const t0 = performance.now();
    const method = req.method ?? 'GET';
    let principal: Principal | undefined;
    const parsed = parseProxyUrl(req.url ?? '');
    let admitted: Admitted;
    try {
      admitted = await admit(req, (p) => (principal = p));
    } catch (err) {
      const e = err instanceof ServerError ? err : new ServerError('INTERNAL');
      if (!(err instanceof ServerError)) ctx.log.error({ err }, 'proxy admission failed');
      req.resume();
      sendProxyError(res, e);
      record(principal, parsed?.clusterId ?? null, method, parsed?.path ?? req.url ?? '', e.status, at, t0, 'request', e.code);
      return;
    }
    const { stream, clusterId, path } = admitted;
    // The client went away (kubectl Ctrl-C, watch cancelled): close the stream, so the agent
    // aborts its request to the kube-apiserver.
    res.on('close', () => {
      if (!res.writableFinished) stream.destroy();
    });
    stream.on('error', () => {});
    try {
      const result = await requestOverStream(stream, { method, path, headers: forwardHeaders(req.headers, false), body: req });
      if (result.kind !== 'response') throw new ServerError('UPSTREAM_FAILED', 'the agent answered a plain request with an upgrade');
      const upstream = result.response;
      const status = upstream.statusCode ?? 502;
      res.writeHead(status, responseHeaders(upstream.headers));
      // Watches and `logs -f`: flush each chunk as it comes (no buffering on our side).
      res.flushHeaders();
      record(principal, clusterId, method, path, status, at, t0);
      upstream.on('error', () => res.destroy());
      upstream.pipe(res);
    } catch (err) {
      stream.destroy();
      const e = err instanceof ServerError ? err : new ServerError('UPSTREAM_FAILED', `the request to cluster ${clusterId} failed: ${(err as Error).message}`);
      sendProxyError(res, e);
      record(principal, clusterId, method, path, e.status, at, t0, 'request', e.code);
    }
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const at = ctx.clock.now();
    const t0 = performance.now();
    const method = req.method ?? 'GET';
    let principal: Principal | undefined;
    const parsed = parseProxyUrl(req.url ?? '');
    socket.on('error', () => socket.destroy());
    let admitted: Admitted;
    try {
      admitted = await admit(req, (p) => (principal = p));
    } catch (err) {
      const e = err instanceof ServerError ? err : new ServerError('INTERNAL');
      writeRawError(socket, e);
      record(principal, parsed?.clusterId ?? null, method, parsed?.path ?? req.url ?? '', e.status, at, t0, 'upgrade', e.code);
      return;
    }
    const { stream, clusterId, path } = admitted;
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
      record(principal, clusterId, method, path, status, at, t0, 'upgrade');
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
      record(principal, clusterId, method, path, e.status, at, t0, 'upgrade', e.code);
    }
  }

  return { handleRequest, handleUpgrade };
}

function sendProxyError(res: ServerResponse, e: ServerError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(errorBody(e.code, e.message));
  res.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function writeRawError(socket: Duplex, e: ServerError): void {
  if (!socket.writable) return socket.destroy() as unknown as void;
  const text = JSON.stringify(errorBody(e.code, e.message));
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}
