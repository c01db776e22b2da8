// Error registry of server-lite: every code the server puts on the wire, with its HTTP status.
// docs/errors-server.md documents each one; errors.test.ts keeps the two in sync.

export const SERVER_ERRORS = Object.freeze({
  TOKEN_MALFORMED: { status: 400, message: 'the join token is not of the form <id>.<secret>' },
  TOKEN_UNKNOWN: { status: 401, message: 'the join token is not known to this server' },
  TOKEN_EXPIRED: { status: 401, message: 'the join token has expired; create a new one with `drover token create`' },
  TOKEN_USED_UP: { status: 401, message: 'the join token has no uses left; create a new one with `drover token create --uses N`' },
  TOKEN_REVOKED: { status: 401, message: 'the join token was revoked' },
  TOKEN_NOT_FOUND: { status: 404, message: 'no join token with that id' },
  CREDENTIAL_MISSING: { status: 401, message: 'an Authorization: Bearer <credential> header is required' },
  CREDENTIAL_INVALID: { status: 401, message: 'the agent credential is not valid; register the agent again' },
  CREDENTIAL_REVOKED: { status: 401, message: 'the agent credential was revoked or the agent was unregistered' },
  CLUSTER_DELETED: {
    status: 410,
    message: "this agent's cluster was deleted on the server; the agent cleans up (GET /v1/agent/cleanup) and must be registered again with a new join token",
  },
  CREDENTIAL_SUPERSEDED: {
    status: 401,
    message: 'this credential was rotated out; call POST /v1/agent/rotate with it (accepted once) to recover',
  },
  ADMIN_TOKEN_INVALID: { status: 401, message: 'the admin token is missing or wrong (--token, DROVER_TOKEN)' },
  ROLE_INVALID: { status: 400, message: 'X-Drover-Role must be one of cluster, node, fleet' },
  ROLE_NOT_GRANTED: { status: 403, message: 'this agent did not register that role' },
  AGENT_VERSION_UNSUPPORTED: { status: 400, message: "the agent's version is outside this server's support window; the message names both versions" },
  UNSUPPORTED_VERSION: { status: 400, message: 'no tunnel protocol version in common; the message lists the supported ones' },
  UPGRADE_REQUIRED: { status: 426, message: 'this endpoint needs a WebSocket upgrade' },
  UPGRADE_INVALID: { status: 400, message: 'malformed WebSocket upgrade request' },
  REQUEST_TIMEOUT: { status: 408, message: 'the request did not arrive completely in time' },
  REQUEST_ABORTED: { status: 499, message: 'the client closed the connection before its request arrived' },
  INVALID_JSON: { status: 400, message: 'the request body is not valid JSON' },
  INVALID_REQUEST: { status: 400, message: 'the request body does not match the schema' },
  BODY_TOO_LARGE: { status: 413, message: 'the request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'send the body as application/json' },
  NOT_FOUND: { status: 404, message: 'no such resource' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed on this resource' },
  CLUSTER_NOT_FOUND: { status: 404, message: 'no cluster with that id' },
  AGENT_NOT_FOUND: { status: 404, message: 'no agent with that id' },
  UNAUTHENTICATED: { status: 401, message: 'the API token is missing, unknown, expired or revoked (--token, DROVER_TOKEN)' },
  LOGIN_FAILED: { status: 401, message: 'wrong user name or password' },
  PROVIDER_NOT_FOUND: { status: 404, message: 'no identity provider of that name (see drover auth provider list)' },
  PROVIDER_EXISTS: { status: 409, message: 'an identity provider of that name exists already' },
  PROVIDER_UNAVAILABLE: { status: 503, message: 'the identity provider did not answer; local users are not affected' },
  PROVIDER_MISCONFIGURED: { status: 502, message: "the identity provider refused Drover's own credentials or configuration (bind password, client secret, issuer)" },
  GROUP_BINDING_NOT_FOUND: { status: 404, message: 'no such group role binding' },
  FORBIDDEN: { status: 403, message: 'your Drover role does not allow this; ask an admin' },
  IMPERSONATION_FORBIDDEN: { status: 403, message: 'only global admins may impersonate, and only Drover users and groups (--as NAME, --as-group drover:…)' },
  USER_NOT_FOUND: { status: 404, message: 'no user with that name (see drover user list)' },
  USER_EXISTS: { status: 409, message: 'a user with that name exists already' },
  USER_TOKEN_NOT_FOUND: { status: 404, message: 'no API token with that id' },
  PROJECT_NOT_FOUND: { status: 404, message: 'no project of that name (see drover project list)' },
  PROJECT_EXISTS: { status: 409, message: 'a project of that name exists already' },
  BINDING_NOT_FOUND: { status: 404, message: 'no such role binding (see drover role list)' },
  CLUSTER_UNAVAILABLE: { status: 503, message: "the cluster's agent is not connected; retry when it is back" },
  UPSTREAM_FAILED: { status: 502, message: "the cluster agent could not complete the request to its Kubernetes API" },
  OVERLOADED: { status: 503, message: 'the server is busy; retry after the Retry-After delay' },
  NOT_READY: { status: 503, message: 'the server is not ready' },
  NODE_NOT_FOUND: { status: 404, message: 'no node with that id or name (see drover node list)' },
  NODE_UNAVAILABLE: { status: 503, message: "the node's node agent is not connected; retry when it is back" },
  INTERNAL: { status: 500, message: 'internal server error' },
  SECRET_NOT_FOUND: { status: 404, message: 'no source secret with that name (see drover secret list)' },
  SECRET_INVALID: { status: 400, message: 'the source secret lacks a field its type needs, or has one it does not' },
  SECRET_EXISTS: { status: 409, message: 'a source secret with that name exists; give --replace to rotate it' },
} as const);

export type ServerErrorCode = keyof typeof SERVER_ERRORS;

/** An error with a stable code; the HTTP layer turns it into `{"error":{"code","message"}}`. */
export class ServerError extends Error {
  readonly code: ServerErrorCode;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ServerErrorCode, message?: string, retryAfterSeconds?: number) {
    super(message ?? SERVER_ERRORS[code].message);
    this.name = 'ServerError';
    this.code = code;
    this.status = SERVER_ERRORS[code].status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function errorBody(code: ServerErrorCode, message?: string): { error: { code: ServerErrorCode; message: string } } {
  return { error: { code, message: message ?? SERVER_ERRORS[code].message } };
}

/**
 * Marks an error of a feature's own registry (node plans, releases and upgrades) whose `code` and
 * `status` the router answers as they are, exactly as it answers a ServerError, so no API needs a
 * catch wrapper of its own.
 */
export const ANSWERED_AS_IS = Symbol('drover.answeredAsIs');

export interface RegistryError extends Error {
  readonly [ANSWERED_AS_IS]: true;
  readonly code: string;
  readonly status: number;
}

export function isRegistryError(e: unknown): e is RegistryError {
  return e instanceof Error && (e as Partial<RegistryError>)[ANSWERED_AS_IS] === true;
}
