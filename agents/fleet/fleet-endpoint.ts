// The fleet role's tunnel endpoint, `http:drover-fleet`: HTTP over streams the server opens on
// the fleet tunnel (decision 0750). The server pulls the resume point, pushes desired deployments
// (one stream each, so a 20 MiB bundle never rides a control message) and drains the outbox.
// Every answer is sent only after SQLite committed (synchronous=FULL), so an acknowledgement is
// never ahead of the disk.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { FleetAgent } from './fleet-agent.ts';
import type { DesiredDeployment } from './types.ts';
import { FLEET_AGENT_LIMITS, FLEET_ROLE_LIMITS } from './limits.ts';
import { applyDelta, isDesiredDelta } from './manifest-delta.ts';

export const FLEET_TARGET = 'http:drover-fleet';

class BodyTooLarge extends Error {}

async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new BodyTooLarge(`request body over ${max} bytes`);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function isDesired(v: unknown): v is DesiredDeployment {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Record<string, unknown>;
  return typeof d.id === 'string' && typeof d.bundle === 'string' && typeof d.revision === 'string' && Array.isArray(d.manifests) && typeof d.options === 'object' && d.options !== null;
}

/** The request handler; errors become JSON `{code, message}` answers, never a dropped stream. */
export function fleetEndpoint(agent: FleetAgent, log: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://drover-agent');
    const path = url.pathname;
    const deployment = /^\/v1\/fleet\/deployments\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && path === '/v1/fleet/resume') {
      // `features` is read only by servers before protocol 1.1; newer ones send deltas where both
      // HELLOs list FLEET_DELTA (decisions 0755, 0981).
      send(res, 200, { deployments: agent.resumePoint(), features: ['delta'] });
    } else if (req.method === 'PUT' && deployment) {
      const body = await readJson(req, FLEET_ROLE_LIMITS.MAX_DESIRED_BYTES);
      if (isDesiredDelta(body) && body.id === decodeURIComponent(deployment[1] ?? '')) {
        // Rebuilt against what is stored, checked against the revision named, then stored like a full set.
        const full = applyDelta(agent.store.deployment(body.id), body);
        send(res, 200, agent.accept(full));
        return;
      }
      if (!isDesired(body) || body.id !== decodeURIComponent(deployment[1] ?? '')) {
        send(res, 400, { code: 'MANIFEST_INVALID', message: 'the body is not a desired deployment for this id' });
        return;
      }
      send(res, 200, agent.accept(body));
    } else if (req.method === 'DELETE' && deployment) {
      send(res, 200, { removed: agent.remove(decodeURIComponent(deployment[1] ?? '')) });
    } else if (req.method === 'GET' && path === '/v1/fleet/outbox') {
      const limit = Math.min(Number(url.searchParams.get('limit') ?? FLEET_AGENT_LIMITS.OUTBOX_DRAIN_BATCH) || 1, FLEET_AGENT_LIMITS.OUTBOX_DRAIN_BATCH);
      send(res, 200, { rows: agent.pendingStatuses(limit) });
    } else if (req.method === 'POST' && path === '/v1/fleet/outbox/ack') {
      const body = (await readJson(req, FLEET_ROLE_LIMITS.MAX_SMALL_BYTES)) as { seq?: unknown };
      if (typeof body.seq !== 'number' || !Number.isInteger(body.seq)) {
        send(res, 400, { code: 'INVALID', message: 'seq must be an integer' });
        return;
      }
      send(res, 200, { removed: agent.acknowledgeStatuses(body.seq) });
    } else {
      send(res, 404, { code: 'NOT_FOUND', message: `${req.method} ${path}` });
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
      if (!res.headersSent) send(res, status, { code, message: e.message });
      else res.destroy();
    });
  };
}
