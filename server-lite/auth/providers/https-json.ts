// The one way the server talks HTTP to an OIDC provider: HTTPS only, the provider's CA pinned when
// configured, a timeout, and a bounded answer (discovery documents, JWKS and token answers are a
// few KiB; a provider that sends megabytes is refused). Network failures become 'unavailable'.
import https from 'node:https';
import { ProviderError } from './provider-error.ts';
import { BodyTooLarge, readBounded } from '../../../protocol/index.ts';

export const OIDC_TIMEOUT_MS = 10_000;
export const OIDC_MAX_ANSWER_BYTES = 256 * 1024;

export interface JsonAnswer {
  status: number;
  json: unknown;
}

export function httpsJson(url: string, opts: { ca: string | null; method?: 'GET' | 'POST'; form?: Record<string, string>; basicAuth?: [string, string] }): Promise<JsonAnswer> {
  if (!url.startsWith('https://')) return Promise.reject(new ProviderError('misconfigured', `the provider named a non-https endpoint ${url.slice(0, 200)}`));
  const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
  const headers: Record<string, string | number> = { accept: 'application/json' };
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = Buffer.byteLength(body);
  }
  if (opts.basicAuth) {
    // RFC 6749 §2.3.1: client id and secret form-urlencoded before base64.
    const [id, secret] = opts.basicAuth.map((x) => encodeURIComponent(x));
    headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  }
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: opts.method ?? 'GET', headers, timeout: OIDC_TIMEOUT_MS, ...(opts.ca ? { ca: opts.ca } : {}) }, (res) => {
      readBounded(res, OIDC_MAX_ANSWER_BYTES).then((answer) => {
        const text = answer.toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json });
      }, (err: unknown) => {
        res.destroy();
        if (err instanceof BodyTooLarge) reject(new ProviderError('refused', `the provider's answer from ${url} is larger than ${OIDC_MAX_ANSWER_BYTES} bytes`));
        else reject(new ProviderError('unavailable', `the provider at ${url} failed: ${(err as Error).message}`));
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new ProviderError('unavailable', `the identity provider at ${new URL(url).origin} did not answer (${err.code ?? err.name}: ${err.message.slice(0, 200)})`)));
    req.end(body);
  });
}
