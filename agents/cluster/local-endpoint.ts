// The cluster agent's local endpoint (issue 18; Rancher calls it the authorized cluster endpoint):
// an HTTPS Kubernetes endpoint on the site that works whether or not the server is reachable. It
// authenticates Drover API tokens against the hashes the server last synced (local-endpoint-auth.ts),
// forwards with the very proxy code that serves the server's tunnel streams (kube-proxy.ts: the
// caller's Impersonate-User/-Group as the agent's own credentials), so the cluster's RBAC decides
// reads and writes, and records one audit entry per request in the local outbox, which the server
// drains into its audit chain when it is reachable (access-endpoint.ts). The listener follows the
// synced settings: a new address re-binds, a new certificate is swapped in without dropping clients.
import https from 'node:https';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { kubeVerb, readImpersonation } from '../../protocol/index.ts';
import type { KubeUpstream } from './kube-upstream.ts';
import { kubeProxyHandlers, type Identity } from './kube-proxy.ts';
import { parseListen, type AccessSet } from './access-set.ts';
import { authenticateLocal, indexAccess, type AccessIndex, type LocalAuth, type LocalCaller } from './local-endpoint-auth.ts';
import type { AccessStore } from './access-store.ts';

/** Where audit entries say a request came from: the local endpoint, not the server's proxy. */
export const LOCAL_AUDIT_PATH_PREFIX = 'local-endpoint:';

export interface LocalEndpointOptions {
  kube: () => Promise<KubeUpstream>;
  store: AccessStore;
  log: Logger;
  /** Wall clock, epoch ms (token expiry, audit times). */
  now: () => number;
}

export interface EndpointStatus {
  /** `HOST:PORT` actually bound, or null when disabled or failing. */
  listening: string | null;
  error: string | null;
}

function statusBody(status: number, code: string, message: string): string {
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'InternalError';
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code: status, error: { code, message } });
}

export class LocalEndpoint {
  readonly #o: LocalEndpointOptions;
  #index: AccessIndex = indexAccess({ tokens: [], users: [], droverGroups: [] });
  #server: https.Server | undefined;
  #listen: string | undefined;
  #cert: string | undefined;
  #proxy: ReturnType<typeof kubeProxyHandlers> | undefined;
  readonly #callers = new WeakMap<IncomingMessage, LocalCaller>();
  #status: EndpointStatus = { listening: null, error: null };

  constructor(o: LocalEndpointOptions) {
    this.#o = o;
  }

  get status(): EndpointStatus {
    return this.#status;
  }

  /** Follows a synced set (or the stored one at start): listen, re-bind, swap the certificate, or stop. */
  async apply(set: AccessSet | undefined): Promise<EndpointStatus> {
    const endpoint = set?.endpoint ?? null;
    // Disabled: no token is accepted (the set then holds none anyway).
    this.#index = indexAccess(endpoint && set ? set : { tokens: [], users: [], droverGroups: [] });
    if (!endpoint) {
      await this.close();
      return this.#status;
    }
    const addr = parseListen(endpoint.listen);
    if (!addr) {
      this.#status = { listening: null, error: `cannot listen on ${endpoint.listen}: not HOST:PORT` };
      return this.#status;
    }
    try {
      this.#proxy ??= kubeProxyHandlers(await this.#o.kube(), this.#o.log, {
        identify: (req) => this.#identity(req),
        onUpgradeStatus: (req, status) => this.#audited(req)?.(status),
      });
    } catch (err) {
      this.#status = { listening: null, error: `cannot load the kubeconfig: ${(err as Error).message}` };
      return this.#status;
    }
    if (this.#server && this.#listen === endpoint.listen) {
      if (this.#cert !== endpoint.certPem) {
        // Renewal or new SANs: new handshakes get the new certificate, open connections stay.
        this.#server.setSecureContext({ key: endpoint.keyPem, cert: endpoint.certPem, minVersion: 'TLSv1.2' });
        this.#cert = endpoint.certPem;
        this.#o.log.info({ listen: endpoint.listen }, 'local endpoint certificate replaced');
      }
      return this.#status;
    }
    await this.close();
    const server = https.createServer({ key: endpoint.keyPem, cert: endpoint.certPem, minVersion: 'TLSv1.2' }, (req, res) => this.#request(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
    server.on('tlsClientError', (err) => this.#o.log.debug({ err: err.message }, 'local endpoint: TLS handshake failed'));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(addr.port, addr.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.#status = { listening: null, error: `cannot listen on ${endpoint.listen}: ${(err as Error).message}` };
      this.#o.log.warn({ listen: endpoint.listen, err: (err as Error).message }, 'local endpoint cannot listen');
      return this.#status;
    }
    this.#server = server;
    this.#listen = endpoint.listen;
    this.#cert = endpoint.certPem;
    const bound = server.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : addr.port;
    this.#status = { listening: `${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${port}`, error: null };
    this.#o.log.info({ listen: this.#status.listening, fqdn: endpoint.fqdn }, 'local endpoint listening');
    return this.#status;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#listen = undefined;
    this.#cert = undefined;
    this.#status = { listening: null, error: null };
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    this.#o.log.info('local endpoint stopped');
  }

  #identity(req: IncomingMessage): Identity | undefined {
    return this.#callers.get(req)?.identity;
  }

  #authenticate(req: IncomingMessage): LocalAuth {
    return authenticateLocal(req.headers.authorization, readImpersonation(req), this.#index, this.#o.now());
  }

  /** Starts the audit entry of a request; the returned function finishes it with the status. */
  #audit(req: IncomingMessage, caller: LocalCaller | undefined): (status: number) => void {
    const at = this.#o.now();
    const t0 = performance.now();
    let done = false;
    return (status) => {
      if (done) return;
      done = true;
      const method = req.method ?? 'GET';
      const path = req.url ?? '/';
      try {
        this.#o.store.audit.enqueue(
          {
            at,
            user: caller?.user ?? 'anonymous',
            idp: caller?.idp ?? 'none',
            ...(caller?.provider ? { provider: caller.provider } : {}),
            verb: kubeVerb(method, path),
            path: `${LOCAL_AUDIT_PATH_PREFIX}${path.split('?')[0] ?? path}`,
            status,
            latencyMs: Math.round((performance.now() - t0) * 10) / 10,
            ...(caller?.impersonated ? { impersonated: caller.impersonated } : {}),
          },
          new Date(at),
        );
      } catch (err) {
        this.#o.log.error({ err: (err as Error).message }, 'local endpoint: cannot record the audit entry');
      }
    };
  }

  readonly #finishers = new WeakMap<IncomingMessage, (status: number) => void>();
  #audited(req: IncomingMessage): ((status: number) => void) | undefined {
    return this.#finishers.get(req);
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    const auth = this.#authenticate(req);
    const finish = this.#audit(req, auth.ok ? auth.caller : undefined);
    if (!auth.ok) {
      req.resume();
      const body = statusBody(auth.status, auth.status === 401 ? 'UNAUTHENTICATED' : 'IMPERSONATION_FORBIDDEN', auth.message);
      res.writeHead(auth.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      finish(auth.status);
      return;
    }
    this.#callers.set(req, auth.caller);
    res.once('close', () => finish(res.headersSent ? res.statusCode : 499));
    this.#proxy?.request(req, res);
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const auth = this.#authenticate(req);
    const finish = this.#audit(req, auth.ok ? auth.caller : undefined);
    if (!auth.ok) {
      const body = statusBody(auth.status, auth.status === 401 ? 'UNAUTHENTICATED' : 'IMPERSONATION_FORBIDDEN', auth.message);
      socket.end(`HTTP/1.1 ${auth.status} ${STATUS_CODES[auth.status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      finish(auth.status);
      return;
    }
    this.#callers.set(req, auth.caller);
    this.#finishers.set(req, finish);
    this.#proxy?.upgrade(req, socket, head);
  }
}
