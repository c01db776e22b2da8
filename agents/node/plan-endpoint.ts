// The node role's plan endpoint, `http:drover-plans` (protocol NODE_PLAN_TARGET): HTTP over
// streams the server opens on the node tunnel, as the fleet role does (decision 0750). The server
// reads the resume point (and the node's clock, for maintenance windows), puts plans, cancels them
// and drains the results outbox. A PUT is answered only after SQLite committed the plan.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { PLAN_LIMITS, targetError } from '../../protocol/index.ts';
import type { PlanAgent } from './plan-agent.ts';
import { BodyTooLarge, readJsonBody as readJson, sendJson as send } from '../common/json-body.ts';

export const OUTBOX_DRAIN_BATCH = 200;

export function planEndpoint(agent: PlanAgent, log: Logger, now: () => Date = () => new Date()): (req: IncomingMessage, res: ServerResponse) => void {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://drover-agent');
    const p = url.pathname;
    const plan = /^\/v1\/node\/plans\/([^/]+)$/.exec(p);
    const cancel = /^\/v1\/node\/plans\/([^/]+)\/cancel$/.exec(p);
    if (req.method === 'GET' && p === '/v1/node/resume') {
      const t = now();
      // The node's own clock: maintenance windows are in the node's local time.
      send(res, 200, { plans: agent.resumePoint(), clock: { now: t.toISOString(), utcOffsetMinutes: -t.getTimezoneOffset() }, features: ['outbox-signal'] });
    } else if (req.method === 'PUT' && plan) {
      const body = (await readJson(req, PLAN_LIMITS.maxPlanBytes * 2)) as { checksum?: unknown; document?: unknown };
      if (typeof body.checksum !== 'string') {
        send(res, 400, targetError('INVALID', 'checksum must be a string'));
        return;
      }
      const a = agent.accept(decodeURIComponent(plan[1] ?? ''), body.checksum, body.document);
      send(res, a.status, a.body);
    } else if (req.method === 'POST' && cancel) {
      send(res, 200, { canceled: agent.cancel(decodeURIComponent(cancel[1] ?? '')) });
    } else if (req.method === 'GET' && p === '/v1/node/outbox') {
      const limit = Math.min(Number(url.searchParams.get('limit') ?? OUTBOX_DRAIN_BATCH) || 1, OUTBOX_DRAIN_BATCH);
      send(res, 200, { rows: agent.pendingResults(limit) });
    } else if (req.method === 'POST' && p === '/v1/node/outbox/ack') {
      const body = (await readJson(req, 4096)) as { seq?: unknown };
      if (typeof body.seq !== 'number' || !Number.isInteger(body.seq)) {
        send(res, 400, targetError('INVALID', 'seq must be an integer'));
        return;
      }
      send(res, 200, { removed: agent.acknowledge(body.seq) });
    } else {
      send(res, 404, targetError('NOT_FOUND', `${req.method} ${p}`));
    }
  };
  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = err as Error & { code?: unknown };
      const storage = typeof e.code === 'string' && e.code.startsWith('SQLITE_');
      const status = err instanceof BodyTooLarge ? 413 : err instanceof SyntaxError ? 400 : storage ? 503 : 500;
      log.warn({ err: e.message, path: req.url }, 'plan request refused');
      if (!res.headersSent) send(res, status, targetError(typeof e.code === 'string' ? e.code : 'INVALID', e.message));
      else res.destroy();
    });
  };
}
