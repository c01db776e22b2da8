// Turns the end of a tunnel session into an AgentError for status and backoff. The WebSocket
// close code is read first because server-lite closes with its own codes (4001 superseded,
// 4003 credential revoked) which the protocol's close-code table would misread
// (4001 HANDSHAKE_FAILED, 4003 FLOW_CONTROL in protocol/errors.ts).
import type { SessionCloseInfo } from '../../protocol/index.ts';
import { AgentError } from './errors.ts';

export const SERVER_CLOSE = Object.freeze({ superseded: 4001, revoked: 4003, shutdown: 1001 } as const);

export function describeClose(info: SessionCloseInfo, wsCode: number, wsReason: string): AgentError {
  const reason = wsReason ? ` (${wsReason})` : '';
  if (wsCode === SERVER_CLOSE.revoked && /revoked/i.test(wsReason)) {
    return new AgentError('CREDENTIAL_REVOKED', `the server closed the tunnel: credential revoked${reason}`);
  }
  if (wsCode === SERVER_CLOSE.superseded && /supersed/i.test(wsReason)) {
    return new AgentError('TUNNEL_SUPERSEDED', `the server replaced this tunnel with a newer connection of this agent and role${reason}; is another process running this role?`);
  }
  if (info.code === 'TRANSPORT_CLOSED') return new AgentError('TUNNEL_CLOSED', `tunnel connection lost: ${info.message}`);
  const side = info.remote ? 'server' : 'agent';
  return new AgentError('TUNNEL_CLOSED', `tunnel closed by the ${side}: ${info.code} ${info.message}`);
}
