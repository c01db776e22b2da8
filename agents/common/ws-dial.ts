// Opens the tunnel WebSocket (GET /v1/connect): pinned CA, bearer credential, role header,
// protocol subprotocols, optional CONNECT proxy agent. Resolves once the 101 arrived, or rejects
// with an AgentError: refusals before the upgrade carry the server's code (CREDENTIAL_REVOKED,
// OVERLOADED + Retry-After, …), socket and TLS failures become SERVER_UNREACHABLE / CA_MISMATCH.
import type https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { MAX_WS_MESSAGE, offeredSubprotocols, readBounded } from '../../protocol/index.ts';
import { LIMITS } from './limits.ts';
import { httpError, networkError, parseRetryAfter } from './server-errors.ts';
import type { Role } from './config.ts';

/** Role header and rotation hint, as server-lite names them (docs/api.md). */
export const ROLE_HEADER = 'X-Drover-Role';
export const ROTATE_HINT_HEADER = 'x-drover-rotate-credential';
/** This agent's release version, for the server's support window (decision 1011). */
export const AGENT_VERSION_HEADER = 'X-Drover-Agent-Version';

export interface DialOptions {
  serverUrl: string;
  role: Role;
  credential: string;
  ca: string;
  agent: https.Agent | undefined;
  now: () => number;
  /** Sent as X-Drover-Agent-Version when given. */
  agentVersion?: string;
}

export interface Dialled {
  ws: WebSocket;
  /** The server asked us to rotate the credential (it is past half its lifetime). */
  rotateHint: boolean;
}

export function connectUrl(serverUrl: string): string {
  const u = new URL('/v1/connect', serverUrl);
  u.protocol = 'wss:';
  return u.href;
}

/** The JSON of a refused upgrade's answer; undefined when it is not JSON, too large or cut off. */
async function readBody(res: IncomingMessage): Promise<unknown> {
  try {
    return JSON.parse((await readBounded(res, LIMITS.maxResponseBytes)).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function dial(opts: DialOptions): Promise<Dialled> {
  const target = new URL(opts.serverUrl).origin;
  return new Promise<Dialled>((resolve, reject) => {
    let settled = false;
    let rotateHint = false;
    const ws = new WebSocket(connectUrl(opts.serverUrl), offeredSubprotocols(), {
      headers: { authorization: `Bearer ${opts.credential}`, [ROLE_HEADER]: opts.role, ...(opts.agentVersion === undefined ? {} : { [AGENT_VERSION_HEADER]: opts.agentVersion }) },
      ca: opts.ca,
      ...(opts.agent ? { agent: opts.agent } : {}),
      maxPayload: MAX_WS_MESSAGE,
      perMessageDeflate: false,
      handshakeTimeout: LIMITS.connectTimeoutMs,
    });
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      ws.removeAllListeners('open');
      ws.on('error', () => {});
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
      reject(networkError(err, target));
    };
    ws.once('upgrade', (res: IncomingMessage) => {
      rotateHint = res.headers[ROTATE_HINT_HEADER] === '1';
      // Second line of defence under the protocol's PINGs: the kernel probes a silent peer too.
      res.socket.setKeepAlive(true, LIMITS.tcpKeepaliveMs);
    });
    ws.once('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      const retryAfter = parseRetryAfter(res.headers['retry-after'], opts.now());
      void readBody(res).then((body) => {
        req.destroy();
        fail(httpError(status, body, retryAfter, `tunnel upgrade (${opts.role})`));
      });
    });
    ws.on('error', fail);
    ws.once('open', () => {
      // Hold inbound frames until the caller attaches the session (attachWebSocket resumes):
      // the server's HELLO can arrive in the same read as the 101 and would otherwise be lost
      // in the await between this resolve and the attach.
      ws.pause();
      settled = true;
      ws.removeListener('error', fail);
      resolve({ ws, rotateHint });
    });
  });
}
