// A small route table: method + path pattern → handler. Unknown paths answer 404 NOT_FOUND, known
// paths with another method 405 METHOD_NOT_ALLOWED (with Allow), thrown ServerErrors and registry
// errors (errors.ts isRegistryError) their own status, anything else 500 INTERNAL (logged, never leaked).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRegistryError, ServerError } from '../errors.ts';
import type { ServerContext } from '../context.ts';
import { sendError, sendJson } from './body.ts';

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  pattern: RegExp;
  /** Stable label for metrics and logs, e.g. `/v1/clusters/:id`. */
  name: string;
  handle(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, params: string[]): Promise<void>;
}

export function createRouter(routes: readonly Route[]) {
  return async function dispatch(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const matching = routes.filter((r) => r.pattern.test(path));
    const route = matching.find((r) => r.method === req.method || (req.method === 'HEAD' && r.method === 'GET'));
    try {
      if (matching.length === 0) throw new ServerError('NOT_FOUND', `no such resource: ${path}`);
      if (!route) {
        res.setHeader('allow', [...new Set(matching.map((r) => r.method))].join(', '));
        throw new ServerError('METHOD_NOT_ALLOWED', `${req.method ?? '?'} is not allowed on ${path}`);
      }
      const params = (route.pattern.exec(path) ?? []).slice(1).map((p) => decodeSegment(p, path));
      await route.handle(ctx, req, res, params);
    } catch (err) {
      if (err instanceof ServerError) {
        sendError(res, err);
      } else if (isRegistryError(err)) {
        req.resume();
        if (res.headersSent) res.destroy();
        else sendJson(res, err.status, { error: { code: err.code, message: err.message } });
      } else {
        ctx.log.error({ err, route: route?.name, method: req.method }, 'request failed');
        sendError(res, new ServerError('INTERNAL'));
      }
    } finally {
      ctx.metrics.httpRequests.inc({ route: route?.name ?? 'unmatched', status: String(res.statusCode) });
    }
  };
}

/** A path segment, percent-decoded; a malformed escape names no resource (issue 14: it was a 500). */
function decodeSegment(segment: string, path: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ServerError('NOT_FOUND', `no such resource: ${path.slice(0, 200)} (malformed percent-encoding)`);
  }
}
