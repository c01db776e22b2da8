// Prometheus metrics of one server process (GET /metrics). A registry per server instance, not the
// prom-client global, so several servers in one test process do not collide.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionRegistry } from './tunnel/session-registry.ts';

export interface ServerMetrics {
  registry: Registry;
  registrations: Counter<'result'>;
  shed: Counter<'kind'>;
  httpRequests: Counter<'route' | 'status'>;
  upgrades: Counter<'result'>;
  /** Proxied Kubernetes requests by kind (request, upgrade) and status class (2xx…, or a Drover code). */
  proxyRequests: Counter<'kind' | 'result'>;
}

export function createMetrics(sessions: SessionRegistry, opts: { defaultMetrics: boolean }): ServerMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'drover_server_' });
  new Gauge({
    name: 'drover_server_sessions',
    help: 'Open tunnel sessions by agent role',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      for (const [role, n] of Object.entries(sessions.countByRole())) this.set({ role }, n);
    },
  });
  return {
    registry,
    registrations: new Counter({
      name: 'drover_server_registrations_total',
      help: 'Registration attempts by result (ok or an error code)',
      labelNames: ['result'],
      registers: [registry],
    }),
    shed: new Counter({
      name: 'drover_server_shed_total',
      help: 'Requests answered 503 OVERLOADED by load shedding, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'drover_server_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    upgrades: new Counter({
      name: 'drover_server_tunnel_upgrades_total',
      help: 'Tunnel upgrade attempts by result (ok or an error code)',
      labelNames: ['result'],
      registers: [registry],
    }),
    proxyRequests: new Counter({
      name: 'drover_server_proxy_requests_total',
      help: 'Kubernetes proxy requests by kind (request or upgrade) and result (status class or Drover error code)',
      labelNames: ['kind', 'result'],
      registers: [registry],
    }),
  };
}
