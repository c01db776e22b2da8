// Small HTTPS client for the agent's few REST calls (CA fetch, register, rotate, unregister):
// node:https with the pinned CA, through the CONNECT proxy when HTTPS_PROXY says so, bounded
// response size and a timeout. The CA fetch is the one call made without verification: its
// result is checked against the join token's hash before anything secret is sent.
import https from 'node:https';
import { ConnectProxyAgent } from './connect-proxy-agent.ts';
import { LIMITS } from './limits.ts';
import { AgentError } from './errors.ts';
import { httpError, networkError, parseRetryAfter } from './server-errors.ts';
import { proxyForUrl, type ProxyEnv } from './proxy-env.ts';
import { BodyTooLarge, readBounded } from '../../protocol/index.ts';

export interface Transport {
  /** Undefined for a direct connection with a fresh socket per request. */
  agent: https.Agent | undefined;
  proxy: URL | undefined;
}

export function transportFor(serverUrl: string, env: ProxyEnv): Transport {
  const proxy = proxyForUrl(serverUrl, env);
  return { agent: proxy ? new ConnectProxyAgent(proxy) : undefined, proxy };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface RequestOptions {
  method: 'GET' | 'POST';
  url: string;
  transport: Transport;
  /** PEM of the pinned CA; `'insecure'` only for the CA fetch itself. */
  ca: string | 'insecure';
  bearer?: string | undefined;
  json?: unknown;
}

export function httpsRequest(opts: RequestOptions): Promise<HttpResult> {
  const payload = opts.json === undefined ? undefined : Buffer.from(JSON.stringify(opts.json));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  const target = new URL(opts.url).origin;
  return new Promise<HttpResult>((resolve, reject) => {
    const req = https.request(opts.url, {
      method: opts.method,
      headers,
      agent: opts.transport.agent ?? false,
      timeout: LIMITS.requestTimeoutMs,
      ...(opts.ca === 'insecure' ? { rejectUnauthorized: false } : { ca: opts.ca }),
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
    req.once('error', (err) => reject(networkError(err, target)));
    req.once('response', (res) => {
      readBounded(res, LIMITS.maxResponseBytes).then(
        (body) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }),
        (err: unknown) => {
          if (!(err instanceof BodyTooLarge)) return reject(networkError(err as Error, target));
          req.destroy();
          reject(new AgentError('SERVER_ERROR', `${target} sent more than ${LIMITS.maxResponseBytes} bytes`));
        },
      );
    });
    req.end(payload);
  });
}

/** Parses a JSON reply; non-2xx becomes the AgentError the body names. */
export async function requestJson(opts: RequestOptions, what: string, nowMs: () => number = Date.now): Promise<{ status: number; body: unknown }> {
  const res = await httpsRequest(opts);
  let body: unknown = undefined;
  if (res.body.length > 0) {
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      body = undefined;
    }
  }
  if (res.status < 200 || res.status >= 300) {
    throw httpError(res.status, body, parseRetryAfter(res.headers['retry-after'], nowMs()), what);
  }
  return { status: res.status, body };
}
