// Stable error codes of the agent side (docs/errors-agent.md lists them; errors.test.ts keeps the
// registry, the docs and the CLI exit codes in sync). Codes the server sends keep the server's name.

/**
 * Exit code per error, mirroring the CLI contract (ARCHITECTURE.md §3: 1 failure, 2 usage,
 * 3 server unreachable, 4 credential or token rejected, 5 CA mismatch). agents/ may not import
 * cli/, so the numbers are repeated here and checked against cli/exit-codes.ts by a test.
 */
export const AGENT_ERRORS = Object.freeze({
  CA_MISMATCH: { exit: 5, summary: 'the server CA does not match the hash in the join token, or the pinned CA no longer verifies the server' },
  SERVER_UNREACHABLE: { exit: 3, summary: 'no TCP/TLS connection to the server (or its proxy) could be made' },
  TOKEN_MALFORMED: { exit: 4, summary: 'the join token is not of the form D10<sha256>::<id>.<secret>' },
  TOKEN_EXPIRED: { exit: 4, summary: 'the server refused the join token: it has expired' },
  TOKEN_USED_UP: { exit: 4, summary: 'the server refused the join token: it has no uses left' },
  TOKEN_REVOKED: { exit: 4, summary: 'the server refused the join token: it was revoked' },
  TOKEN_UNKNOWN: { exit: 4, summary: 'the server does not know the join token (wrong id or secret)' },
  CREDENTIAL_INVALID: { exit: 4, summary: 'the server does not accept the agent credential' },
  CREDENTIAL_REVOKED: { exit: 4, summary: 'the agent credential was revoked on the server' },
  CLUSTER_DELETED: { exit: 4, summary: "the agent's cluster was deleted on the server; the agent cleaned up and forgot its identity" },
  TUNNEL_CLOSED: { exit: 3, summary: 'an established tunnel ended (server restart, network drop, replaced by a newer connection)' },
  CREDENTIAL_SUPERSEDED: { exit: 4, summary: 'the credential was rotated out; the agent re-enrols once through /v1/agent/rotate' },
  TUNNEL_SUPERSEDED: { exit: 1, summary: 'the server replaced this tunnel with a newer one of the same agent and role (another process runs this role?)' },
  AGENT_VERSION_UNSUPPORTED: { exit: 1, summary: "the server does not support this agent's version (outside its window of two minor versions back); the message names both" },
  OVERLOADED: { exit: 3, summary: 'the server shed load (503) more often than the agent retries' },
  INVALID_REQUEST: { exit: 1, summary: 'the server rejected the request body (a bug or a version mismatch)' },
  SERVER_ERROR: { exit: 1, summary: 'the server answered with an unexpected status or body' },
  NOT_REGISTERED: { exit: 1, summary: 'this data dir holds no agent identity; run `drover agent register` first' },
  ALREADY_REGISTERED: { exit: 1, summary: 'this data dir already holds an identity; run `drover agent unregister` first' },
  INVALID_CONFIG: { exit: 2, summary: 'a flag or environment variable has an invalid value' },
  STORE_ERROR: { exit: 1, summary: 'the local SQLite store could not be opened or migrated' },
  ARTIFACT_CHECKSUM_MISMATCH: { exit: 1, summary: 'an artifact fetched from the server (a Kubernetes binary of an upgrade plan) does not have the SHA-256 the plan names; nothing was installed' },
} as const);

export type AgentErrorCode = keyof typeof AGENT_ERRORS;

export function isAgentErrorCode(code: unknown): code is AgentErrorCode {
  return typeof code === 'string' && Object.hasOwn(AGENT_ERRORS, code);
}

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  /** Seconds the server asked us to wait (503 Retry-After), when it said so. */
  readonly retryAfterMs: number | undefined;

  constructor(code: AgentErrorCode, message: string, opts: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AgentError';
    this.code = code;
    this.retryAfterMs = opts.retryAfterMs;
  }

  get exitCode(): number {
    return AGENT_ERRORS[this.code].exit;
  }
}

/** A short, log- and status-friendly description: `CODE: message`. Never contains secrets. */
export function describeError(err: unknown): string {
  if (err instanceof AgentError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
