// Serves `http:kube-apiserver` streams: each carries one proxied request (or upgrade) from the
// server. The caller's identity comes from the stream's OPEN metadata (set by the authenticated
// server), never from the request: every Impersonate-* and Authorization header is dropped, then
// Impersonate-User/-Group are set from the metadata, and the request goes to the kube-apiserver with
// the agent's own credentials, so the cluster's RBAC decides. A stream without identity is refused
// (the agent's credentials are powerful; nothing is forwarded as the agent itself). Closing the
// stream aborts the upstream request (a cancelled watch or `logs -f` ends at the apiserver too).
import https from 'node:https';
import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { KEEPALIVE_METADATA, KUBE_IDENTITY_HEADERS, KUBE_IDENTITY_METADATA as IDENTITY_METADATA } from '../../protocol/index.ts';
import type { KubeUpstream } from './kube-upstream.ts';

/** OPEN metadata keys, defined once for server and agent (protocol/cluster-targets.ts). */
export { IDENTITY_METADATA };

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

export interface Identity {
  user: string;
  groups: string[];
}

/** The caller from OPEN metadata; undefined when absent or malformed. */
export function identityFrom(metadata: Readonly<Record<string, string>> | undefined): Identity | undefined {
  const user = metadata?.[IDENTITY_METADATA.user];
  if (!user) return undefined;
  try {
    const groups: unknown = JSON.parse(metadata[IDENTITY_METADATA.groups] ?? '[]');
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) return undefined;
    return { user, groups };
  } catch {
    return undefined;
  }
}

/** The caller of one request on a keep-alive stream (HTTP_KEEPALIVE, decision 1200): from that
 *  request's `X-Drover-User`/`-Groups`, set by the server per request, never from the stream. */
export function identityFromHeaders(headers: IncomingHttpHeaders): Identity | undefined {
  const user = headers[KUBE_IDENTITY_HEADERS.user];
  const groups = headers[KUBE_IDENTITY_HEADERS.groups];
  if (typeof user !== 'string' || (groups !== undefined && typeof groups !== 'string')) return undefined;
  return identityFrom({ [IDENTITY_METADATA.user]: user, ...(groups === undefined ? {} : { [IDENTITY_METADATA.groups]: groups }) });
}

/** A one-exchange stream names its caller in the OPEN metadata; a keep-alive stream in each request. */
export function streamIdentity(metadata: Readonly<Record<string, string>> | undefined, headers: IncomingHttpHeaders): Identity | undefined {
  return metadata?.[KEEPALIVE_METADATA] === '1' ? identityFromHeaders(headers) : identityFrom(metadata);
}

/** Request headers for the apiserver: client identity headers (and Drover's own) removed, ours set. */
export function upstreamHeaders(headers: IncomingHttpHeaders, who: Identity, upgrade: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    const n = name.toLowerCase();
    if (value === undefined || n === 'authorization' || n.startsWith('impersonate-') || n.startsWith('x-drover-')) continue;
    if (HOP_BY_HOP.has(n) && !(upgrade && (n === 'connection' || n === 'upgrade'))) continue;
    out[n] = value;
  }
  out['impersonate-user'] = who.user;
  if (who.groups.length > 0) out['impersonate-group'] = who.groups;
  return out;
}

function metadataOf(req: IncomingMessage): Readonly<Record<string, string>> | undefined {
  return (req.socket as unknown as { metadata?: Readonly<Record<string, string>> }).metadata;
}

export interface KubeProxyHooks {
  /** Where the caller's identity comes from; default: the stream's OPEN metadata (the server's proxy).
   *  The local endpoint (local-endpoint.ts) passes the identity it authenticated itself. */
  identify?: (req: IncomingMessage) => Identity | undefined;
  /** The status the kube-apiserver answered an upgrade with (101, or a refusal), for the local audit. */
  onUpgradeStatus?: (req: IncomingMessage, status: number) => void;
}

export function kubeProxyHandlers(upstream: KubeUpstream, log: Logger, hooks: KubeProxyHooks = {}) {
  const counters = { requests: 0, upgrades: 0, refused: 0 };
  const identify = hooks.identify ?? ((req: IncomingMessage) => streamIdentity(metadataOf(req), req.headers));

  function request(req: IncomingMessage, res: ServerResponse): void {
    const who = identify(req);
    if (!who) {
      counters.refused++;
      res.writeHead(403, { 'content-type': 'text/plain' }).end('no caller identity on this stream\n');
      return;
    }
    counters.requests++;
    log.debug({ method: req.method, path: req.url, user: who.user }, 'kube request');
    const up = https.request(upstream.options(req.method ?? 'GET', req.url ?? '/', upstreamHeaders(req.headers, who, false), false), (ur) => {
      const headers: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(ur.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      res.writeHead(ur.statusCode ?? 502, headers);
      // A streamed answer (watch, logs -f: no length) gets its head at once; one of known length
      // goes out with its body, one DATA frame instead of two (issue 12).
      if (ur.headers['content-length'] === undefined) res.flushHeaders();
      ur.on('error', () => res.destroy());
      ur.pipe(res);
    });
    up.on('error', (err) => {
      log.debug({ err: err.message, path: req.url }, 'kube request failed');
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`kube-apiserver unreachable: ${err.message}\n`);
      else res.destroy();
    });
    // The server closed the stream (client gone): abort the apiserver request too.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const who = identify(req);
    socket.on('error', () => socket.destroy());
    if (!who) {
      counters.refused++;
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    counters.upgrades++;
    log.debug({ method: req.method, path: req.url, user: who.user, upgrade: req.headers.upgrade }, 'kube upgrade');
    const up = https.request(upstream.options(req.method ?? 'GET', req.url ?? '/', upstreamHeaders(req.headers, who, true), true));
    socket.on('close', () => up.destroy());
    up.on('upgrade', (ur, upSocket, upHead) => {
      hooks.onUpgradeStatus?.(req, ur.statusCode ?? 101);
      socket.write(rawHead(ur, false));
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      upSocket.on('error', () => socket.destroy());
      socket.on('close', () => upSocket.destroy());
      upSocket.pipe(socket);
      socket.pipe(upSocket);
    });
    up.on('response', (ur) => {
      // Refused upgrade (e.g. RBAC 403): pass the answer on and end the stream.
      hooks.onUpgradeStatus?.(req, ur.statusCode ?? 502);
      socket.write(rawHead(ur, true));
      ur.pipe(socket);
    });
    up.on('error', () => {
      hooks.onUpgradeStatus?.(req, 502);
      if (socket.writable) socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    });
    up.end();
  }

  return { request, upgrade, counters };
}

function rawHead(r: IncomingMessage, reframe: boolean): string {
  const status = r.statusCode ?? 502;
  const lines = [`HTTP/1.1 ${status} ${r.statusMessage || STATUS_CODES[status] || ''}`];
  for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) {
    const name = r.rawHeaders[i] ?? '';
    if (reframe && /^(transfer-encoding|content-length|connection)$/i.test(name)) continue;
    lines.push(`${name}: ${r.rawHeaders[i + 1] ?? ''}`);
  }
  if (reframe) lines.push('connection: close');
  return `${lines.join('\r\n')}\r\n\r\n`;
}
