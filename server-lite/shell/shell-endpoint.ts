// `GET /v1/nodes/{node}/shell` with `Upgrade: drover-shell` (issue 15; docs/shell.md): the remote
// shell's way in. Authenticates the caller, finds the node (by id, or by a unique name), decides
// with shell-access.ts, opens a `drover-shell` stream on that node's node-role tunnel with the
// command and terminal in its metadata, answers 101 and relays (shell-relay.ts). Every attempt is
// audited: refusals with their status, an admitted session twice, when it opens (101) and when it
// ends (verb `shell-end`, its duration as latency, exit code and bytes in the path's query).
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { SHELL_METADATA, SHELL_TARGET } from '../../protocol/index.ts';
import type { ServerContext } from '../context.ts';
import { ServerError, errorBody } from '../errors.ts';
import { authenticateUser } from '../auth/guard.ts';
import type { Principal } from '../auth/principal.ts';
import type { NodeRecord } from '../store/store.ts';
import { shellDecision } from './shell-access.ts';
import { relayShell } from './shell-relay.ts';

const SHELL_PATH = /^\/v1\/nodes\/([^/?]+)\/shell(?:\?|$)/;
export const SHELL_UPGRADE = 'drover-shell';
/** Longest command accepted (its JSON), so OPEN metadata stays far below the protocol's bound. */
const MAX_COMMAND_JSON = 8 * 1024;

export function isShellUrl(url: string | undefined): boolean {
  return SHELL_PATH.test(url ?? '');
}

/** The node named by id, or by name when exactly one live node has it. */
async function findNode(ctx: ServerContext, ref: string): Promise<NodeRecord | undefined> {
  const live = (await ctx.store.listNodes()).filter((n) => n.removedAt === null);
  const byId = live.find((n) => n.id === ref);
  if (byId) return byId;
  const byName = live.filter((n) => n.name === ref);
  return byName.length === 1 ? byName[0] : undefined;
}

function shellParams(url: URL): Record<string, string> {
  const q = url.searchParams;
  const command = q.get('command') ?? '[]';
  if (command.length > MAX_COMMAND_JSON) throw new ServerError('INVALID_REQUEST', `the command is longer than ${MAX_COMMAND_JSON} bytes`);
  try {
    const argv: unknown = JSON.parse(command);
    if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new Error('not an array of strings');
  } catch (err) {
    throw new ServerError('INVALID_REQUEST', `command must be a JSON array of strings: ${(err as Error).message}`);
  }
  const size = (v: string | null): string => (v !== null && /^\d{1,5}$/.test(v) ? v : '0');
  return {
    [SHELL_METADATA.command]: command,
    [SHELL_METADATA.tty]: q.get('tty') === '1' ? '1' : '0',
    [SHELL_METADATA.rows]: size(q.get('rows')),
    [SHELL_METADATA.cols]: size(q.get('cols')),
    [SHELL_METADATA.term]: (q.get('term') ?? 'xterm').slice(0, 64),
  };
}

export function createShellEndpoint(ctx: ServerContext) {
  function audit(p: Principal | undefined, clusterId: string | null, verb: string, path: string, status: number, at: number, latencyMs: number): void {
    ctx.audit.record({ at, user: p?.user ?? 'anonymous', idp: p?.idp ?? 'none', clusterId, verb, path, status, latencyMs });
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const at = ctx.clock.now();
    const t0 = performance.now();
    const url = new URL(req.url ?? '/', 'https://drover.invalid');
    const ref = decodeURIComponent(SHELL_PATH.exec(url.pathname)?.[1] ?? '');
    const path = `/v1/nodes/${ref}/shell`;
    let principal: Principal | undefined;
    let clusterId: string | null = null;
    socket.on('error', () => socket.destroy());
    try {
      principal = await authenticateUser(ctx, req);
      if ((req.headers.upgrade ?? '').toLowerCase() !== SHELL_UPGRADE) throw new ServerError('UPGRADE_INVALID', `this endpoint needs Upgrade: ${SHELL_UPGRADE} (use drover shell)`);
      const node = await findNode(ctx, ref);
      if (!node) throw new ServerError('NODE_NOT_FOUND', `no node ${ref} that you may see (see drover node list)`);
      const roles = (await ctx.store.listBindings({ clusterId: node.clusterId, userName: principal.user })).map((b) => b.role);
      const decision = shellDecision(principal, node, roles);
      if (!decision.allowed) {
        // Unknown and invisible nodes answer alike, so ids cannot be probed.
        if (decision.status === 404) throw new ServerError('NODE_NOT_FOUND', `no node ${ref} that you may see (see drover node list)`);
        throw new ServerError('FORBIDDEN', decision.message);
      }
      clusterId = node.clusterId;
      const params = shellParams(url);
      // HA (issue 17): the node agent's tunnel may sit on another replica; the stream is forwarded there.
      const session = ctx.sessions.byRole('node').find((s) => s.nodeId === node.id) ?? (await ctx.ha?.nodeSession(node.id));
      if (!session?.openStream) throw new ServerError('NODE_UNAVAILABLE', `the node agent of ${node.id} (${node.name}) is not connected; start it with drover agent run --roles node`);
      const stream = session.openStream(SHELL_TARGET, { ...params, [SHELL_METADATA.user]: principal.user });
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${SHELL_UPGRADE}\r\n\r\n`);
      audit(principal, clusterId, 'shell', path, 101, at, 0);
      const p = principal;
      ctx.log.info({ user: p.user, nodeId: node.id, clusterId }, 'remote shell opened');
      relayShell(socket, stream, head, (o) => {
        const q = `exitCode=${o.exitCode ?? ''}&bytesIn=${o.bytesIn}&bytesOut=${o.bytesOut}${o.error ? '&error=1' : ''}`;
        const ms = Math.round((performance.now() - t0) * 10) / 10;
        audit(p, clusterId, 'shell-end', `${path}?${q}`, o.exitCode === null ? 499 : 200, at, ms);
        ctx.log.info({ user: p.user, nodeId: node.id, clusterId, exitCode: o.exitCode, bytesIn: o.bytesIn, bytesOut: o.bytesOut, error: o.error, ms }, 'remote shell closed');
      });
    } catch (err) {
      const e = err instanceof ServerError ? err : new ServerError('INTERNAL');
      if (!(err instanceof ServerError)) ctx.log.error({ err }, 'shell upgrade failed');
      const text = JSON.stringify(errorBody(e.code, e.message));
      if (socket.writable) {
        socket.end(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
      } else socket.destroy();
      audit(principal, clusterId, 'shell', path, e.status, at, Math.round((performance.now() - t0) * 10) / 10);
    }
  }

  return { handleUpgrade };
}
