// Runs one agent's tunnel once the WebSocket is open: the protocol session (HELLO, ping/pong with
// dead-peer detection, control messages) from protocol/, registration in the session registry
// (newest wins), lastSeen on every frame, and facts into the store.
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { attachWebSocket, type ControlMessage } from '../../protocol/index.ts';
import type { ServerContext } from '../context.ts';
import { LIMITS } from '../limits.ts';
import type { AgentRecord } from '../store/store.ts';
import { agentVersionRefusal } from '../agent-version-gate.ts';
import { SERVER_CLOSE_CODES, type CloseReason, type SessionHandle, type SessionInfo } from './session-registry.ts';
import { connectReason, disconnectReason } from './connection-log.ts';

/**
 * The server waits longer for an agent's HELLO than the protocol default (10 s): in a reconnect
 * storm an agent's HELLO can queue behind many TLS handshakes on either end, and cutting it off
 * only makes it come back. The admission slot it holds meanwhile bounds how many wait.
 */
const SESSION_LIMITS = Object.freeze({ helloTimeoutMs: LIMITS.sessionHelloTimeoutMs, pingIntervalMs: LIMITS.sessionPingIntervalMs });

/** `handshakeDone` is called once when the HELLO exchange ends (ready or closed): admission slot. */
export function runAgentSession(ctx: ServerContext, ws: WebSocket, agent: AgentRecord, info: SessionInfo, handshakeDone: () => void = () => {}): SessionHandle {
  // A pino child logger per session is a few hundred bytes held for the tunnel's life; most idle
  // tunnels log only their connect and close, so the child is made when a session first logs.
  let child: Logger | undefined;
  const log = (): Logger => (child ??= ctx.log.child({ agentId: agent.id, clusterId: agent.clusterId, role: info.role, session: info.id }));
  // Set when the agent's version is refused at HELLO: the gate logged that once; the protocol's
  // own "session failed" warning would repeat it on every retry of the agent.
  let versionRefused = false;
  const session = attachWebSocket(ws, {
    side: 'server',
    peer: { role: 'server', version: ctx.version },
    limits: SESSION_LIMITS,
    // During shutdown every session ends with GOING_AWAY on purpose: not worth 10k warnings.
    logger: {
      debug: (obj, msg) => {
        if (ctx.log.isLevelEnabled('debug')) log().debug(obj, msg);
      },
      warn: (obj, msg) => (ctx.closing || versionRefused ? ctx.log.isLevelEnabled('debug') && log().debug(obj, msg) : log().warn(obj, msg)),
    },
  });
  const event = { clusterId: agent.clusterId, agentId: agent.id, role: info.role, sessionId: info.id, remote: info.remoteAddress || null };
  /** Why the server ended the session, when it did (connection history). */
  let closedBy: CloseReason | undefined;
  const handle: SessionHandle = {
    ...info,
    openStream: (target, metadata) => session.openStream(target, metadata),
    has: (cap) => session.has(cap),
    close(reason: CloseReason) {
      closedBy ??= reason;
      if (reason === 'shutdown') {
        session.close('GOING_AWAY', 'server shutting down; reconnect');
        return;
      }
      // Superseded and revoked close the WebSocket with server-lite's own codes (api.md), which
      // the agent reads before the protocol's close-code table.
      const { code, reason: text } = SERVER_CLOSE_CODES[reason];
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, text);
    },
  };

  // Any frame from the agent proves it is alive (api.md: lastSeen updates on any traffic).
  ws.on('message', () => ctx.lastSeen.mark(agent.id, ctx.clock.now()));
  // Before the session sees a frame: past the agent's budget it is closed, not answered (issue 14).
  const budget = ctx.frameBudgets.acquire(agent.id, performance.now());
  ws.prependListener('message', (data: unknown) => {
    if (session.state === 'closed' || !Buffer.isBuffer(data) || budget.admit(data, performance.now())) return;
    log().warn({ burst: LIMITS.agentFrameBurst, perSecond: LIMITS.agentFramesPerSecond }, 'agent exceeded its frame budget; closing the tunnel');
    ws.pause();
    session.close('RATE_LIMITED', `more than ${LIMITS.agentFrameBurst} OPEN/PING/CONTROL frames at once or ${LIMITS.agentFramesPerSecond}/s`);
  });
  session.on('message', (message: ControlMessage) => {
    if (message.kind === 'facts') {
      // Facts are small and change rarely: write them through.
      ctx.store.recordFacts(agent.id, message.body, ctx.clock.now()).catch((err: unknown) => log().error({ err }, 'recording facts failed'));
    } else if (message.kind === 'heartbeat' && (message.body.outbox ?? 0) > 0) {
      // The agent has statuses queued (decision 1041): collect them now, not at the idle period.
      ctx.onOutboxSignal?.(info.id, info.role);
    } else if (message.kind === 'error') {
      log().warn({ code: message.body.code, message: message.body.message }, 'agent reported an error');
    }
  });
  session.on('close', (closeInfo) => {
    budget.release();
    const wasCurrent = ctx.sessions.remove(handle);
    log().info({ code: closeInfo.code, closeCode: closeInfo.closeCode, remote: closeInfo.remote, message: closeInfo.message, wasCurrent }, 'tunnel closed');
    ctx.connections?.record({ ...event, kind: 'disconnect', at: ctx.clock.now(), reason: disconnectReason(closeInfo, closedBy) });
  });
  // The socket may close without the session noticing first (ws 'close' feeds it); belt and braces.
  ws.on('close', () => {
    budget.release();
    ctx.sessions.remove(handle);
  });

  session.once('ready', handshakeDone);
  // The support window for agents older than the X-Drover-Agent-Version header (before 0.2.0):
  // their HELLO names their version. Closed with the protocol's UNSUPPORTED_VERSION (4000), whose
  // GOAWAY message every agent logs and shows in `agent status` (decision 1011).
  session.once('ready', (hello) => {
    const refused = agentVersionRefusal(ctx.log, ctx.version, hello.peer.version, { agentId: agent.id, where: 'hello' });
    if (refused) {
      versionRefused = true;
      session.close('UNSUPPORTED_VERSION', refused.message);
    }
  });
  session.once('close', handshakeDone);
  const replaced = ctx.sessions.add(handle);
  ctx.connections?.record({ ...event, kind: 'connect', at: ctx.clock.now(), reason: connectReason(info, replaced?.id) });
  ctx.lastSeen.mark(agent.id, info.since);
  // A cluster agent came (back): push it what it missed (RBAC) and ask it for fresh facts.
  if (info.role === 'cluster') session.once('ready', () => ctx.clusterSyncs.forEach((s) => s.kick(agent.clusterId)));
  // Same fields as the child's, without keeping a child for the tunnel's life.
  ctx.log.info({ agentId: agent.id, clusterId: agent.clusterId, role: info.role, session: info.id, protocol: info.protocol, remote: info.remoteAddress, replaced: replaced?.id }, 'tunnel connected');
  return handle;
}
