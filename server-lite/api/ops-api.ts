// Operational endpoints, unauthenticated like k3s/Kubernetes probes: /healthz (the process
// answers), /readyz (the store answers and we are not shutting down), /metrics (Prometheus text).
import { ServerError } from '../errors.ts';
import type { Route } from '../http/router.ts';

export const opsRoutes: readonly Route[] = [
  {
    method: 'GET',
    pattern: /^\/healthz$/,
    name: '/healthz',
    async handle(_ctx, _req, res) {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('ok\n');
    },
  },
  {
    method: 'GET',
    pattern: /^\/readyz$/,
    name: '/readyz',
    async handle(ctx, _req, res) {
      if (ctx.closing) throw new ServerError('NOT_READY', 'the server is shutting down');
      try {
        await ctx.store.ping();
      } catch (err) {
        ctx.log.warn({ err }, 'store not reachable');
        throw new ServerError('NOT_READY', 'the datastore does not answer');
      }
      // HA (issue 17): a replica whose heartbeat failed for a while is about to be counted dead by the others.
      const ha = ctx.ha?.notReady();
      if (ha !== undefined) throw new ServerError('NOT_READY', ha);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('ok\n');
    },
  },
  {
    method: 'GET',
    pattern: /^\/metrics$/,
    name: '/metrics',
    async handle(ctx, _req, res) {
      const text = await ctx.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
      res.end(text);
    },
  },
];
