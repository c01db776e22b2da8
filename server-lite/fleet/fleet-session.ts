// A fleet agent's tunnel as delivery sees it, and one request to its `http:drover-fleet` target.
import { FLEET_TARGET, type CapabilityName, type TunnelStream } from '../../protocol/index.ts';
import { agentCall, type AgentAnswer } from '../tunnel/agent-call.ts';
import { FLEET_SYNC_LIMITS } from './limits.ts';

export { FLEET_TARGET };

export interface FleetSession {
  /** Unique per connection. */
  id: string;
  agentId: string;
  clusterId: string;
  openStream(target: string, metadata?: Record<string, string>): TunnelStream;
  /** Whether both HELLOs of the session listed the capability; deltas go only where FLEET_DELTA is
   *  common (decision 0981). Absent: no optional feature. */
  has?(cap: CapabilityName): boolean;
}

/** One request to the fleet agent over a fresh stream (tunnel/agent-call.ts). */
export function fleetRequest(session: FleetSession, method: string, path: string, body?: unknown): Promise<AgentAnswer> {
  return agentCall((t, m) => session.openStream(t, m), FLEET_TARGET, method, path, body, {
    timeoutMs: FLEET_SYNC_LIMITS.requestTimeoutMs,
    maxAnswerBytes: FLEET_SYNC_LIMITS.maxAnswerBytes,
  });
}
