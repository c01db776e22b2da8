// Turning what the network or the server said into AgentErrors: socket/TLS failures to
// SERVER_UNREACHABLE or CA_MISMATCH, `{"error":{"code","message"}}` bodies to their code,
// Retry-After to milliseconds. Pure, so the mapping is unit-tested.
import { AgentError, isAgentErrorCode } from './errors.ts';
import { LIMITS } from './limits.ts';

/** OpenSSL / Node codes meaning "this is not the server the pinned CA vouches for". */
const TLS_IDENTITY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function networkError(err: unknown, target: string): AgentError {
  if (err instanceof AgentError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && TLS_IDENTITY_CODES.has(code)) {
    return new AgentError('CA_MISMATCH', `${target} presented a certificate the pinned CA does not vouch for (${code}); the server's CA changed or this is not the server`, { cause: err });
  }
  return new AgentError('SERVER_UNREACHABLE', `cannot reach ${target}: ${typeof code === 'string' ? `${code} ` : ''}${message}`, { cause: err });
}

/** `Retry-After`: delta-seconds or an HTTP date; clamped to LIMITS.maxRetryAfterMs. */
export function parseRetryAfter(header: string | string[] | undefined, nowMs: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  let ms: number;
  if (/^\d+$/.test(value.trim())) ms = Number(value.trim()) * 1000;
  else {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.max(0, Math.min(ms, LIMITS.maxRetryAfterMs));
}

/** An error answer from the server, keeping the server's code when the agent knows it. */
export function httpError(status: number, body: unknown, retryAfterMs: number | undefined, what: string): AgentError {
  const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = err?.code;
  const message = typeof err?.message === 'string' ? err.message : `${what} failed with HTTP ${status}`;
  if (status === 503 && retryAfterMs !== undefined && code === undefined) {
    return new AgentError('OVERLOADED', message, { retryAfterMs });
  }
  if (isAgentErrorCode(code)) {
    return retryAfterMs === undefined ? new AgentError(code, message) : new AgentError(code, message, { retryAfterMs });
  }
  if (status === 401 || status === 403) {
    return new AgentError('CREDENTIAL_INVALID', `${what} refused with HTTP ${status}${typeof code === 'string' ? ` (${code})` : ''}: ${message}`);
  }
  return new AgentError('SERVER_ERROR', `${what}: HTTP ${status}${typeof code === 'string' ? ` ${code}` : ''}: ${message}`);
}
