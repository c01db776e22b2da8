// Turns the end of a tunnel session into an AgentError for status and backoff. The WebSocket
// close code is read first: server-lite closes with the protocol's application codes (4500
// superseded, 4501 credential revoked), which the protocol's own error table does not map.
import { APPLICATION_CLOSE_CODES, type SessionCloseInfo } from '../../protocol/index.ts';
import { AgentError } from './errors.ts';

export const SERVER_CLOSE = Object.freeze({
  superseded: APPLICATION_CLOSE_CODES.SESSION_SUPERSEDED,
  revoked: APPLICATION_CLOSE_CODES.CREDENTIAL_REVOKED,
  deleted: APPLICATION_CLOSE_CODES.CLUSTER_DELETED,
  shutdown: 1001,
} as const);

export function describeClose(info: SessionCloseInfo, wsCode: number, wsReason: string): AgentError {
  const reason = wsReason ? ` (${wsReason})` : '';
  if (wsCode === SERVER_CLOSE.revoked) {
    return new AgentError('CREDENTIAL_REVOKED', `the server closed the tunnel: credential revoked${reason}`);
  }
  if (wsCode === SERVER_CLOSE.deleted) {
    return new AgentError('CLUSTER_DELETED', `the server closed the tunnel: this agent's cluster was deleted${reason}`);
  }
  if (wsCode === SERVER_CLOSE.superseded) {
    return new AgentError('TUNNEL_SUPERSEDED', `the server replaced this tunnel with a newer connection of this agent and role${reason}; is another process running this role?`);
  }
  if (info.code === 'UNSUPPORTED_VERSION' && info.remote) {
    // The server's support window, checked at HELLO (decision 1011); the message names both versions.
    return new AgentError('AGENT_VERSION_UNSUPPORTED', `the server refused the tunnel: ${info.message}`);
  }
  if (info.code === 'TRANSPORT_CLOSED') return new AgentError('TUNNEL_CLOSED', `tunnel connection lost: ${info.message}`);
  const side = info.remote ? 'server' : 'agent';
  return new AgentError('TUNNEL_CLOSED', `tunnel closed by the ${side}: ${info.code} ${info.message}`);
}
