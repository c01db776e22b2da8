// Endpoints agents call (docs/api.md): the CA (unauthenticated: agents check it against the hash
// in their join token before trusting it), registration, credential rotation and unregistration.
import { z } from 'zod';
import type { IncomingMessage } from 'node:http';
import { authenticate, authenticateDeleted, rotateCredential, type Authenticated } from '../credentials.ts';
import { ROLES, type DeletedAgentRecord } from '../store/store.ts';
import type { ServerContext } from '../context.ts';
import { rememberAgent } from '../auth/caller.ts';
import { ServerError } from '../errors.ts';
import { retryAfterSeconds } from '../load-shedding.ts';
import { register, registerRequestSchema, type RegisterRequest } from '../registration.ts';
import { bearer } from '../secrets.ts';
import { readJson, sendJson, sendNoContent } from '../http/body.ts';
import { knownCas } from '../tls/ca-rotation.ts';
import type { Route } from '../http/router.ts';
import { agentVersionRefusal } from '../agent-version-gate.ts';

const emptyObject = z.object({}).loose();
const cleanedSchema = z.object({ roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length) }).strict();

async function authenticateDeletedAgent(req: IncomingMessage, ctx: ServerContext): Promise<DeletedAgentRecord> {
  try {
    const rec = await authenticateDeleted(bearer(req.headers.authorization), ctx.store);
    rememberAgent(req, rec.agentId);
    return rec;
  } catch (err) {
    req.resume();
    throw err;
  }
}

function cleanupView(r: DeletedAgentRecord) {
  return {
    clusterId: r.clusterId,
    clusterName: r.clusterName,
    deletedAt: new Date(r.at).toISOString(),
    deletedBy: r.by,
    keepWorkloads: r.keepWorkloads,
    uninstallAgents: r.uninstallAgents,
    roles: r.roles,
    cleanedRoles: r.cleanedRoles,
  };
}

/** Authenticates the agent calling and names it for the audit row (`agent:<id>`). */
async function authenticateAgent(ctx: ServerContext, req: IncomingMessage, opts: { allowPrevious: boolean }): Promise<Authenticated> {
  try {
    const auth = await authenticate(bearer(req.headers.authorization), ctx.store, opts);
    rememberAgent(req, auth.agent.id);
    return auth;
  } catch (err) {
    req.resume();
    throw err;
  }
}

export const agentRoutes: readonly Route[] = [
  {
    // Reached only without an Upgrade header (upgrades go to tunnel/connect.ts).
    method: 'GET',
    pattern: /^\/v1\/connect$/,
    name: '/v1/connect',
    async handle() {
      throw new ServerError('UPGRADE_REQUIRED', 'GET /v1/connect needs a WebSocket upgrade (subprotocol drover.v1)');
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/ca$/,
    name: '/v1/ca',
    async handle(ctx, req, res) {
      // `?sha256=` (the hash in a join token): a CA this server had before a rotation and still
      // vouches for (the served chain is cross-signed by it), so tokens made before keep working
      // (issue 18, decision 0952). Unknown hashes get the current CA, and the agent's CA_MISMATCH
      // message names its hash.
      const wanted = new URL(req.url ?? '/', 'https://x').searchParams.get('sha256');
      const pem = (wanted && /^[0-9a-f]{64}$/.test(wanted) ? knownCas(ctx.dataDir).get(wanted) : undefined) ?? ctx.tls.caPem;
      res.writeHead(200, { 'content-type': 'application/x-pem-file', 'content-length': Buffer.byteLength(pem) });
      res.end(pem);
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/register$/,
    name: '/v1/register',
    async handle(ctx, req, res) {
      const remote = req.socket.remoteAddress; // read now: the socket may be gone after an error
      // The body is read (bounded in size, depth and time) before a slot is taken: a client that
      // sends its body slowly holds a connection, never one of the slots for the expensive part
      // (hashing and a synchronous=FULL write), so it cannot starve genuine registrations (issue 14).
      let body: RegisterRequest;
      try {
        body = await readJson(req, registerRequestSchema);
      } catch (err) {
        if (err instanceof ServerError) {
          ctx.metrics.registrations.inc({ result: err.code });
          ctx.log.info({ code: err.code, remote }, 'registration refused');
        }
        throw err;
      }
      // The support window (decision 1011): refused before a join token use is spent.
      const versionRefused = agentVersionRefusal(ctx.log, ctx.version, typeof body.facts?.agentVersion === 'string' ? body.facts.agentVersion : undefined, { remote, where: 'register' });
      if (versionRefused) {
        ctx.metrics.registrations.inc({ result: versionRefused.code });
        throw versionRefused;
      }
      const release = ctx.limiters.registrations.tryAcquire();
      if (!release) {
        ctx.metrics.shed.inc({ kind: 'register' });
        throw new ServerError('OVERLOADED', undefined, retryAfterSeconds(ctx.unit()));
      }
      try {
        const result = await register(body, { store: ctx.store, random: ctx.random, now: () => ctx.clock.now() });
        ctx.metrics.registrations.inc({ result: 'ok' });
        ctx.log.info(
          { agentId: result.agentId, clusterId: result.clusterId, nodeId: result.nodeId, roles: body.roles, hostname: body.hostname },
          'agent registered',
        );
        rememberAgent(req, result.agentId);
        sendJson(res, 201, result);
      } catch (err) {
        if (err instanceof ServerError) {
          ctx.metrics.registrations.inc({ result: err.code });
          ctx.log.info({ code: err.code, remote }, 'registration refused');
        }
        throw err;
      } finally {
        release();
      }
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/agent\/rotate$/,
    name: '/v1/agent/rotate',
    async handle(ctx, req, res) {
      // Authenticated before the body is read: a stranger's body is never parsed.
      const auth = await authenticateAgent(ctx, req, { allowPrevious: true });
      await readJson(req, emptyObject, { emptyAsObject: true });
      const issued = await rotateCredential(auth, ctx.store, ctx.random, ctx.clock.now());
      ctx.log.info({ agentId: auth.agent.id, via: auth.via }, 'agent credential rotated');
      sendJson(res, 200, { credential: issued.credential, credentialExpiresAt: new Date(issued.expiresAt).toISOString() });
    },
  },
  {
    // The agent of a deleted cluster (close 4502, or 410 at connect) asks what to clean up.
    method: 'GET',
    pattern: /^\/v1\/agent\/cleanup$/,
    name: '/v1/agent/cleanup',
    async handle(ctx, req, res) {
      const rec = await authenticateDeletedAgent(req, ctx);
      sendJson(res, 200, cleanupView(rec));
    },
  },
  {
    // ... and reports the roles whose site it cleaned up; once all did, its credential is forgotten.
    method: 'POST',
    pattern: /^\/v1\/agent\/cleanup$/,
    name: '/v1/agent/cleanup',
    async handle(ctx, req, res) {
      const rec = await authenticateDeletedAgent(req, ctx);
      const body = await readJson(req, cleanedSchema);
      const left = (await ctx.store.markCleaned(rec.agentId, body.roles)) ?? [];
      ctx.log.info({ agentId: rec.agentId, clusterId: rec.clusterId, roles: body.roles, left }, 'deleted cluster cleaned up by its agent');
      sendJson(res, 200, { remainingRoles: left });
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/agent\/unregister$/,
    name: '/v1/agent/unregister',
    async handle(ctx, req, res) {
      const auth = await authenticateAgent(ctx, req, { allowPrevious: false });
      await readJson(req, emptyObject, { emptyAsObject: true });
      await ctx.store.removeAgent(auth.agent.id, ctx.clock.now());
      ctx.sessions.closeAgent(auth.agent.id, 'revoked');
      await ctx.ha?.closeElsewhere(auth.agent.id, 'revoked'); // HA: its tunnels on other replicas
      ctx.log.info({ agentId: auth.agent.id, clusterId: auth.agent.clusterId }, 'agent unregistered');
      sendNoContent(res);
    },
  },
];
