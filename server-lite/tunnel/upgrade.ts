// GET /v1/connect: checks a WebSocket upgrade before accepting it, and answers refusals as plain
// HTTP with the JSON error body (api.md): 404 for other paths, 400 for a malformed upgrade, a bad
// role or no common protocol version (listing ours), 401 for credentials, 403 for a role the agent
// did not register, 503 OVERLOADED + Retry-After when shedding load.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { offeredSubprotocols, selectSubprotocol, versionRefusal } from '../../protocol/index.ts';
import { errorBody, ServerError } from '../errors.ts';
import { ROLES, type Role } from '../store/store.ts';

export const CONNECT_PATH = '/v1/connect';
export const ROLE_HEADER = 'x-drover-role';

/** Subprotocols this server accepts, newest first (`drover.v1`, …). */
export const ACCEPTED_SUBPROTOCOLS: readonly string[] = offeredSubprotocols();

/** Writes a refusal on the raw socket and closes it. */
export function refuseUpgrade(socket: Duplex, err: ServerError, offeredProtocols?: string): void {
  if (socket.destroyed) return;
  if (err.code === 'UNSUPPORTED_VERSION') {
    // The protocol's own refusal: same JSON shape plus `supported` and X-Drover-Supported-Protocols.
    socket.end(versionRefusal(offeredProtocols).httpResponse);
    return;
  }
  const body = JSON.stringify(errorBody(err.code, err.message));
  const head = [
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
  ];
  if (err.retryAfterSeconds !== undefined) head.push(`retry-after: ${err.retryAfterSeconds}`);
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/** The syntactic checks of RFC 6455 §4.2.1 that `ws` would otherwise answer without our JSON body. */
export function checkUpgradeRequest(req: IncomingMessage): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== CONNECT_PATH) throw new ServerError('NOT_FOUND', `no WebSocket endpoint at ${path ?? '/'}; agents connect to ${CONNECT_PATH}`);
  if (req.method !== 'GET') throw new ServerError('UPGRADE_INVALID', 'a WebSocket upgrade must use GET');
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') throw new ServerError('UPGRADE_INVALID', 'Upgrade must be websocket');
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !/^[+/0-9A-Za-z]{22}==$/.test(key)) {
    throw new ServerError('UPGRADE_INVALID', 'missing or malformed Sec-WebSocket-Key');
  }
  if (req.headers['sec-websocket-version'] !== '13') throw new ServerError('UPGRADE_INVALID', 'Sec-WebSocket-Version must be 13');
}

export function parseRole(value: string | string[] | undefined): Role {
  const role = Array.isArray(value) ? undefined : value?.trim().toLowerCase();
  if (!ROLES.includes(role as Role)) {
    throw new ServerError('ROLE_INVALID', `X-Drover-Role must be one of ${ROLES.join(', ')} (got ${String(value ?? 'nothing')})`);
  }
  return role as Role;
}

/** The newest major both sides speak (protocol's `selectSubprotocol`). */
export function chooseSubprotocol(header: string | undefined): string {
  const chosen = selectSubprotocol(header);
  if (chosen === undefined) throw new ServerError('UNSUPPORTED_VERSION', versionRefusal(header).message);
  return chosen;
}
