// Runs one agent's tunnel once the WebSocket is open: every message marks the agent seen, the
// session leaves the registry when the socket closes (only if it is still the registered one, so a
// replaced session's late close cannot remove its successor), and a dead peer is detected by ping.
import type { WebSocket } from 'ws';
import type { ServerContext } from '../context.ts';
import { LIMITS } from '../limits.ts';
import type { AgentRecord } from '../store/store.ts';
import type { SessionHandle } from './session-registry.ts';

export function runAgentSession(ctx: ServerContext, ws: WebSocket, handle: SessionHandle, agent: AgentRecord): void {
  const log = ctx.log.child({ agentId: agent.id, clusterId: agent.clusterId, role: handle.role, session: handle.id });
  let alive = true;
  const seen = (): void => {
    alive = true;
    ctx.lastSeen.mark(agent.id, ctx.clock.now());
  };
  ws.on('message', seen);
  ws.on('pong', seen);
  // Half-open TCP (a NAT dropped the flow): no pong within one interval → terminate, so the
  // registry never keeps a dead session (issue 4: exactly one session after a reconnect).
  const timer = setInterval(() => {
    if (!alive) {
      log.info('tunnel peer unresponsive; terminating');
      ws.terminate();
      return;
    }
    alive = false;
    ws.ping();
  }, LIMITS.heartbeatIntervalMs);
  timer.unref();
  ws.on('error', (err) => log.debug({ err }, 'tunnel socket error'));
  ws.on('close', (code, reason) => {
    clearInterval(timer);
    const wasCurrent = ctx.sessions.remove(handle);
    log.info({ code, reason: reason.toString('utf8'), wasCurrent }, 'tunnel closed');
  });
}
