// The cluster agent's `http:drover-access` target (issue 18, docs/api.md): the server pushes the
// local endpoint's access set (PUT /v1/access: stored, then applied to the listener, then answered)
// and drains the local audit outbox (GET /v1/access/audit, POST /v1/access/audit/ack {seq}) — the
// same pull-and-acknowledge exchange as the fleet outbox, so no entry is lost or counted twice.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { checkAccessSet } from './access-set.ts';
import type { AccessStore } from './access-store.ts';
import type { LocalEndpoint } from './local-endpoint.ts';
import { BodyTooLarge, readJsonBody as readJson, sendJson as send } from '../common/json-body.ts';

const MAX_SET_BYTES = 32 * 1024 * 1024;
const MAX_SMALL_BYTES = 4096;
export const AUDIT_DRAIN_MAX = 500;

export function accessEndpoint(o: { store: AccessStore; endpoint: LocalEndpoint; log: Logger; now: () => number }) {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://drover-agent');
    if (req.method === 'PUT' && url.pathname === '/v1/access') {
      const check = checkAccessSet(await readJson(req, MAX_SET_BYTES));
      if (!check.ok) return send(res, 400, { error: { code: 'BAD_ACCESS_SET', message: check.reason } });
      // Stored (committed) first: the endpoint keeps these tokens across restarts while offline.
      o.store.save(check.set, new Date(o.now()));
      const status = await o.endpoint.apply(check.set);
      o.log.info({ revision: check.set.revision, tokens: check.set.tokens.length, ...status }, 'local endpoint access set applied');
      return send(res, 200, { revision: check.set.revision, ...status });
    }
    if (req.method === 'GET' && url.pathname === '/v1/access') {
      req.resume();
      const stored = o.store.load();
      return send(res, 200, { revision: stored?.set.revision ?? null, syncedAt: stored?.syncedAt ?? null, ...o.endpoint.status, outbox: o.store.audit.length() });
    }
    if (req.method === 'GET' && url.pathname === '/v1/access/audit') {
      req.resume();
      const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? AUDIT_DRAIN_MAX) || 1, 1), AUDIT_DRAIN_MAX);
      return send(res, 200, { rows: o.store.audit.peek(limit), dropped: o.store.audit.dropped() });
    }
    if (req.method === 'POST' && url.pathname === '/v1/access/audit/ack') {
      const body = (await readJson(req, MAX_SMALL_BYTES)) as { seq?: unknown };
      if (typeof body.seq !== 'number' || !Number.isInteger(body.seq)) return send(res, 400, { error: { code: 'INVALID', message: 'seq must be an integer' } });
      return send(res, 200, { removed: o.store.audit.ack(body.seq) });
    }
    req.resume();
    send(res, 404, { error: { code: 'NOT_FOUND', message: `${req.method ?? '?'} ${url.pathname}` } });
  };
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      const e = err as Error;
      const status = err instanceof BodyTooLarge ? 413 : err instanceof SyntaxError ? 400 : 503;
      o.log.warn({ err: e.message, path: req.url }, 'access request refused');
      if (!res.headersSent) send(res, status, { error: { code: status === 503 ? 'ACCESS_STORE_FAILED' : 'INVALID', message: e.message } });
      else res.destroy();
    });
  };
}
