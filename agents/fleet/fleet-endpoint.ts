// The fleet role's tunnel endpoint, `http:drover-fleet`: HTTP over streams the server opens on
// the fleet tunnel (decision 0750). The server pulls the resume point, pushes desired deployments
// (one stream each, so a 20 MiB bundle never rides a control message) and drains the outbox.
// Every answer is sent only after SQLite committed (synchronous=FULL), so an acknowledgement is
// never ahead of the disk. Bodies are parsed with the wire contract (protocol/contracts/fleet.ts),
// errors answered as `{"error":{"code","message"}}`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import {
  desiredDeltaSchema, desiredFullSchema, FLEET_PATHS, FLEET_TARGET, outboxAckSchema, targetError,
  type ResumeAnswer,
} from '../../protocol/index.ts';
import type { FleetAgent } from './fleet-agent.ts';
import { FLEET_AGENT_LIMITS, FLEET_ROLE_LIMITS } from './limits.ts';
import { validateManifests } from './manifest-check.ts';
import { applyDelta } from './manifest-delta.ts';
import { BodyTooLarge, readJsonBody as readJson, sendJson as send } from '../common/json-body.ts';

export { FLEET_TARGET };

function issueText(issue: { path: PropertyKey[]; message: string } | undefined): string {
  return issue ? `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}` : 'invalid';
}

/** The request handler; errors become JSON `{"error":{"code","message"}}` answers, never a dropped stream. */
export function fleetEndpoint(agent: FleetAgent, log: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://drover-agent');
    const path = url.pathname;
    const deployment = path.startsWith(FLEET_PATHS.deployments) && !path.slice(FLEET_PATHS.deployments.length).includes('/') && path.length > FLEET_PATHS.deployments.length
      ? decodeURIComponent(path.slice(FLEET_PATHS.deployments.length))
      : undefined;
    if (req.method === 'GET' && path === FLEET_PATHS.resume) {
      // `features` is read only by servers before protocol 1.1; newer ones send deltas where both
      // HELLOs list FLEET_DELTA (decisions 0755, 0981).
      send(res, 200, { deployments: agent.resumePoint(), features: ['delta', 'outbox-signal'] } satisfies ResumeAnswer);
    } else if (req.method === 'PUT' && deployment !== undefined) {
      const body = await readJson(req, FLEET_ROLE_LIMITS.MAX_DESIRED_BYTES);
      const delta = desiredDeltaSchema.safeParse(body);
      if (delta.success && delta.data.id === deployment) {
        // Rebuilt against what is stored, checked against the revision named, then stored like a full set.
        const full = applyDelta(agent.store.deployment(delta.data.id), delta.data);
        send(res, 200, agent.accept(full));
        return;
      }
      const desired = desiredFullSchema.safeParse(body);
      if (!desired.success || desired.data.id !== deployment) {
        send(res, 400, targetError('MANIFEST_INVALID', desired.success ? `the body is for deployment ${desired.data.id.slice(0, 64)}, not ${deployment.slice(0, 64)}` : `the body is not a desired deployment: ${issueText(desired.error.issues[0])}`));
        return;
      }
      // Each manifest is the agent's to check (MANIFEST_INVALID, TOO_MANY_OBJECTS: 422).
      const { manifests, ...header } = desired.data;
      validateManifests(manifests);
      send(res, 200, agent.accept({ ...header, manifests }));
    } else if (req.method === 'DELETE' && deployment !== undefined) {
      send(res, 200, { removed: agent.remove(deployment) });
    } else if (req.method === 'GET' && path === FLEET_PATHS.outbox) {
      const limit = Math.min(Number(url.searchParams.get('limit') ?? FLEET_AGENT_LIMITS.OUTBOX_DRAIN_BATCH) || 1, FLEET_AGENT_LIMITS.OUTBOX_DRAIN_BATCH);
      send(res, 200, { rows: agent.pendingStatuses(limit) });
    } else if (req.method === 'POST' && path === FLEET_PATHS.outboxAck) {
      const ack = outboxAckSchema.safeParse(await readJson(req, FLEET_ROLE_LIMITS.MAX_SMALL_BYTES));
      if (!ack.success) {
        send(res, 400, targetError('INVALID', 'the body must be {"seq": N}, N a whole number'));
        return;
      }
      send(res, 200, { removed: agent.acknowledgeStatuses(ack.data.seq) });
    } else {
      send(res, 404, targetError('NOT_FOUND', `${req.method} ${path}`));
    }
  };
  // Refusals logged at warn since the last success: the same one again (the server retrying while
  // the disk is full) is logged at debug, so a long outage is one line, not one per retry (issue 14).
  const refusals = new Set<string>();
  return (req, res) => {
    handle(req, res).then(() => {
      // A write that worked ends the trouble (reads work on a full disk too).
      if (res.statusCode < 400 && req.method !== 'GET') refusals.clear();
    }, (err: unknown) => {
      const e = err as Error & { code?: unknown };
      // SQLite failing to write (disk full, I/O error, busy) is this device's trouble, not the
      // request's: 503, which the server retries, never 422, which it records as a refusal.
      const storage = typeof e.code === 'string' && e.code.startsWith('SQLITE_');
      const status = err instanceof BodyTooLarge ? 413 : err instanceof SyntaxError ? 400 : e.code === 'DELTA_MISMATCH' ? 409 : storage ? 503 : 422;
      const code = typeof e.code === 'string' ? e.code : status === 413 ? 'TOO_LARGE' : 'INVALID';
      const key = `${code} ${e.message}`;
      log[refusals.has(key) ? 'debug' : 'warn']({ code, err: e.message, path: req.url }, 'fleet request refused');
      refusals.add(key);
      if (!res.headersSent) send(res, status, targetError(code, e.message));
      else res.destroy();
    });
  };
}
