// The cluster agent's connection to its own kube-apiserver, from the kubeconfig given at
// registration: the server URL and TLS/credential options (client certificate or bearer token, read
// by agents/common/kubeconfig.ts), a keep-alive agent for ordinary requests, and a small JSON helper for
// the agent's own calls (RBAC sync, facts). Upgrades use a fresh connection each (agent: false).
import https from 'node:https';
import tls from 'node:tls';
import type { OutgoingHttpHeaders } from 'node:http';
import { loadKubeconfig } from '../common/kubeconfig.ts';
import { DEFAULT_LIMITS, readBounded } from '../../protocol/index.ts';

/** The agent's own JSON calls: answers above this are refused (a node list of 5,000 fits). */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

export class KubeUpstream {
  readonly url: URL;
  readonly #tls: https.RequestOptions;
  /** The TLS part of #tls with one prebuilt secure context. */
  readonly #secure: https.RequestOptions;
  readonly #agent: https.Agent;

  private constructor(url: URL, tlsOptions: https.RequestOptions) {
    this.url = url;
    this.#tls = tlsOptions;
    this.#secure = withSecureContext(tlsOptions);
    // One socket per concurrent request (a watch holds one for its lifetime); the tunnel's own stream
    // limit (DEFAULT_LIMITS.maxStreams) bounds them, so a lower cap here would only queue watches forever.
    this.#agent = new https.Agent({ keepAlive: true, maxSockets: DEFAULT_LIMITS.maxStreams, ...(this.#secure as https.AgentOptions) });
  }

  static async fromKubeconfig(path: string): Promise<KubeUpstream> {
    const k = await loadKubeconfig(path);
    return new KubeUpstream(k.server, { ...k.tls, headers: k.headers });
  }

  /** Options for https.request to `path` (headers merged with the kubeconfig's, e.g. a bearer token). */
  options(method: string, path: string, headers: OutgoingHttpHeaders, upgrade: boolean): https.RequestOptions {
    const base = this.url.pathname.replace(/\/+$/, '');
    return {
      ...this.#secure,
      protocol: 'https:',
      hostname: this.url.hostname,
      port: this.url.port || 443,
      method,
      path: `${base}${path}`,
      headers: { ...headers, ...(this.#tls.headers as OutgoingHttpHeaders | undefined), host: this.url.host },
      agent: upgrade ? false : this.#agent,
    };
  }

  /** One JSON request as the agent itself (no impersonation). */
  json(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: unknown }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: OutgoingHttpHeaders = { accept: 'application/json' };
    if (payload !== undefined) Object.assign(headers, { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) });
    return new Promise((resolve, reject) => {
      const req = https.request(this.options(method, path, headers, false), (res) => {
        readBounded(res, MAX_JSON_BYTES, `answer to ${path}`).then((answer) => {
          const text = answer.toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // Kubernetes answers JSON; keep text for the error message otherwise.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        }, (err: unknown) => {
          req.destroy();
          reject(err as Error);
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** The kubeconfig's TLS settings as one secure context built once: every new connection (each
 *  watch, exec, port-forward, and keep-alive sockets as they are replaced) otherwise parsed the CA,
 *  certificate and key again (createSecureContext was 2% of a proxying agent's CPU, issue 12). */
function withSecureContext(o: https.RequestOptions): https.RequestOptions {
  // Node's https passes `secureContext` on to tls.connect, which then skips building its own.
  const { ca, cert, key, pfx, passphrase, ...rest } = pickTls(o);
  const secure: tls.ConnectionOptions = { secureContext: tls.createSecureContext({ ca, cert, key, pfx, passphrase }) };
  return { ...rest, ...(secure as https.RequestOptions) };
}

function pickTls(o: https.RequestOptions): https.RequestOptions {
  const out: https.RequestOptions = {};
  for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const) {
    if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
  }
  return out;
}
