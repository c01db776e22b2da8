// Accepts agent tunnels: validates and authenticates the upgrade (upgrade.ts), hands the socket to
// `ws`, registers the session (newest wins) and runs it until either side closes.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { authenticate, shouldRotate } from '../credentials.ts';
import { ServerError } from '../errors.ts';
import { MAX_WS_MESSAGE } from '../../protocol/index.ts';
import { retryAfterSeconds } from '../load-shedding.ts';
import { bearer } from '../secrets.ts';
import { AGENT_IDP, agentUser, ANONYMOUS } from '../auth/caller.ts';
import type { ServerContext } from '../context.ts';
import { ACCEPTED_SUBPROTOCOLS, checkUpgradeRequest, chooseSubprotocol, parseRole, refuseUpgrade, ROLE_HEADER } from './upgrade.ts';
import { runAgentSession } from './agent-session.ts';
import { AGENT_VERSION_HEADER, agentVersionRefusal, headerVersion } from '../agent-version-gate.ts';

/** Header on the 101 answer asking the agent to rotate its credential (past half its lifetime). */
export const ROTATE_HEADER = 'x-drover-rotate-credential';

/** Defined outside any upgrade's scope: a listener made inside one would keep its request alive. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

export function createTunnelEndpoint(ctx: ServerContext) {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_WS_MESSAGE,
    perMessageDeflate: false,
    clientTracking: false,
    // The subprotocol was already chosen and checked before handleUpgrade.
    handleProtocols: (protocols) => [...protocols].find((p) => ACCEPTED_SUBPROTOCOLS.includes(p)) ?? false,
  });
  const extraHeaders = new WeakMap<IncomingMessage, string[]>();
  // Every accepted socket until it closes: shutdown terminates those whose peer never answers.
  const open = new Set<WebSocket>();
  /**
   * Tracks an accepted socket until it closes. Its listener is made here, not inside admit(): a
   * closure made there keeps admit's scope alive as long as the tunnel, and with it the upgrade's
   * request, head and headers (about 2 KiB per idle tunnel, measured in a heap snapshot).
   */
  const track = (ws: WebSocket): void => {
    open.add(ws);
    ws.once('close', () => open.delete(ws));
  };
  wss.on('headers', (headers: string[], req: IncomingMessage) => {
    for (const h of extraHeaders.get(req) ?? []) headers.push(h);
  });

  /** Every upgrade is audited (issue 14): accepted (101) or refused, with the agent once known. */
  function auditUpgrade(req: IncomingMessage, at: number, t0: number, status: number, agentId: string | undefined): void {
    ctx.audit.record({
      at,
      user: agentId === undefined ? ANONYMOUS.user : agentUser(agentId),
      idp: agentId === undefined ? ANONYMOUS.idp : AGENT_IDP,
      clusterId: null,
      verb: (req.method ?? 'GET').toLowerCase(),
      path: (req.url ?? '/').split('?')[0] ?? '/',
      status,
      latencyMs: Math.round((performance.now() - t0) * 10) / 10,
    });
  }

  async function admit(req: IncomingMessage, socket: Duplex, head: Buffer, seen: { agentId?: string }, at: number, t0: number): Promise<void> {
    checkUpgradeRequest(req);
    if (ctx.closing) throw new ServerError('OVERLOADED', 'the server is shutting down', retryAfterSeconds(ctx.unit()));
    // Held until the session's HELLO exchange ends (ready or closed), not just until the 101: in a
    // reconnect storm, thousands of admitted-but-silent sockets would otherwise hit the HELLO
    // timeout on a busy server; beyond the limit agents get 503 + Retry-After and come back later.
    const release = ctx.limiters.upgrades.tryAcquire();
    let handedOver = false;
    if (!release) {
      ctx.metrics.shed.inc({ kind: 'upgrade' });
      throw new ServerError('OVERLOADED', undefined, retryAfterSeconds(ctx.unit()));
    }
    try {
      const role = parseRole(req.headers[ROLE_HEADER]);
      const protocol = chooseSubprotocol(req.headers['sec-websocket-protocol']);
      const { agent } = await authenticate(bearer(req.headers.authorization), ctx.store, { allowPrevious: false });
      seen.agentId = agent.id;
      // The credential names the agent: a second agent cannot pose as the first (issue 4).
      if (!agent.roles.includes(role)) {
        throw new ServerError('ROLE_NOT_GRANTED', `agent ${agent.id} registered roles ${agent.roles.join(', ')}, not ${role}`);
      }
      // The support window (decision 1011); agents before 0.2.0 send no header: checked at HELLO.
      const versionRefused = agentVersionRefusal(ctx.log, ctx.version, headerVersion(req.headers[AGENT_VERSION_HEADER]), { agentId: agent.id, where: 'connect' });
      if (versionRefused) throw versionRefused;
      // Checked after authentication so that an agent replacing its own (maybe half-open) session
      // is never refused: replacement does not grow the registry.
      if (ctx.sessions.size >= ctx.maxSessions && !ctx.sessions.has(agent.id, role)) {
        ctx.metrics.shed.inc({ kind: 'sessions' });
        throw new ServerError('OVERLOADED', 'the server holds its maximum number of tunnels', retryAfterSeconds(ctx.unit()));
      }
      if (socket.destroyed) throw new ServerError('REQUEST_ABORTED', 'the agent closed the connection during the upgrade');
      // Shutdown may have begun while we authenticated: do not register behind closeAll's back.
      if (ctx.closing) throw new ServerError('OVERLOADED', 'the server is shutting down', retryAfterSeconds(ctx.unit()));
      const now = ctx.clock.now();
      if (shouldRotate(agent, now)) extraHeaders.set(req, [`${ROTATE_HEADER}: 1`]);
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        track(ws);
        ctx.metrics.upgrades.inc({ result: 'ok' });
        auditUpgrade(req, at, t0, 101, agent.id);
        handedOver = true;
        runAgentSession(ctx, ws, agent, {
          id: randomUUID(),
          agentId: agent.id,
          clusterId: agent.clusterId,
          nodeId: agent.nodeId,
          role,
          since: ctx.clock.now(),
          remoteAddress: req.socket.remoteAddress ?? 'unknown',
          protocol,
        }, release);
      });
    } finally {
      if (!handedOver) release();
    }
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', destroyOnError);
    const at = ctx.clock.now();
    const t0 = performance.now();
    const seen: { agentId?: string } = {};
    admit(req, socket, head, seen, at, t0).catch((err: unknown) => {
      const e = err instanceof ServerError ? err : new ServerError('INTERNAL');
      if (!(err instanceof ServerError)) ctx.log.error({ err }, 'tunnel upgrade failed');
      ctx.metrics.upgrades.inc({ result: e.code });
      auditUpgrade(req, at, t0, e.status, seen.agentId);
      refuseUpgrade(socket, e, req.headers['sec-websocket-protocol']);
    });
  }

  /** Waits up to `graceMs` for tunnels to finish closing, then drops the rest. */
  async function drain(graceMs: number): Promise<void> {
    const deadline = setTimeout(() => {
      for (const ws of open) ws.terminate();
    }, graceMs);
    deadline.unref();
    await Promise.all([...open].map((ws) => new Promise<void>((r) => (ws.readyState === ws.CLOSED ? r() : ws.once('close', () => r())))));
    clearTimeout(deadline);
  }

  return { onUpgrade, drain };
}
