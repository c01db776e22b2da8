// `/v1/clusters/{id}/endpoint` (issue 18, docs/api.md): an admin enables, moves or disables a
// cluster's local endpoint (POST); anyone who may see the cluster reads its address and CA (GET),
// which `drover kubeconfig CLUSTER` turns into the `CLUSTER-local` context.
import { isIP } from 'node:net';
import { z } from 'zod';
import { ServerError } from '../errors.ts';
import { authenticateUser, requireAdmin } from '../auth/guard.ts';
import { readJson, sendJson } from '../http/body.ts';
import type { Route } from '../http/router.ts';
import type { ServerContext } from '../context.ts';
import { readEndpointConfigs, writeEndpointConfigs, type EndpointConfig } from './endpoint-config.ts';
import { ACCESS_LIMITS } from './limits.ts';
import type { AccessSync } from './access-sync.ts';

const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `HOST:PORT` or `[IPv6]:PORT`: host an IP address, a DNS name, or empty (every address). */
export function checkListen(listen: string): { host: string; port: number } | string {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  if (!m) return `--listen ${listen}: expected HOST:PORT (e.g. 0.0.0.0:9444 or 192.168.1.10:9444)`;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `--listen ${listen}: the port must be 1-65535`;
  const host = m[1] ?? m[2] ?? '';
  if (m[1] !== undefined && isIP(host) !== 6) return `--listen ${listen}: ${host} is not an IPv6 address`;
  if (host !== '' && isIP(host) === 0 && !DNS_NAME.test(host)) return `--listen ${listen}: ${host} is neither an IP address nor a host name`;
  return { host: host === '' ? '0.0.0.0' : host, port };
}

const bodySchema = z
  .object({
    enabled: z.boolean(),
    listen: z.string().min(1).max(300).optional(),
    fqdn: z.string().max(253).regex(DNS_NAME, 'fqdn must be a DNS name').nullable().optional(),
  })
  .strict();

/** The URL kubeconfigs use: the FQDN, else the listen host (loopback for a wildcard). */
export function endpointUrl(config: EndpointConfig): string {
  const l = checkListen(config.listen);
  if (typeof l === 'string') return '';
  const wildcard = l.host === '0.0.0.0' || l.host === '::';
  const host = config.fqdn ?? (wildcard ? '127.0.0.1' : l.host);
  return `https://${isIP(host) === 6 ? `[${host}]` : host}:${l.port}`;
}

function accessOf(ctx: ServerContext): AccessSync {
  if (!ctx.access) throw new ServerError('INTERNAL', 'local endpoints are not available on this server');
  return ctx.access;
}

function view(ctx: ServerContext, clusterId: string, config: EndpointConfig | undefined) {
  if (!config) return { clusterId, enabled: false, listen: null, fqdn: null, url: null, caPem: null, sync: null };
  const access = accessOf(ctx);
  const settings = config.enabled ? access.endpointSettings(clusterId, config) : null;
  return {
    clusterId,
    enabled: config.enabled,
    listen: config.listen,
    fqdn: config.fqdn,
    url: config.enabled ? endpointUrl(config) : null,
    caPem: settings?.caPem ?? null,
    sync: access.state(clusterId) ?? null,
  };
}

export const endpointRoutes: readonly Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/clusters\/([^/]+)\/endpoint$/,
    name: '/v1/clusters/:id/endpoint',
    async handle(ctx, req, res, [id = '']) {
      await requireAdmin(ctx, req);
      const body = await readJson(req, bodySchema);
      if (!(await ctx.store.getCluster(id))) throw new ServerError('CLUSTER_NOT_FOUND', `no cluster ${id} (see drover cluster list)`);
      const configs = readEndpointConfigs(ctx.dataDir);
      const before = configs[id];
      const listen = body.listen ?? before?.listen ?? ACCESS_LIMITS.defaultEndpointListen;
      const checked = checkListen(listen);
      if (typeof checked === 'string') throw new ServerError('INVALID_REQUEST', checked);
      const fqdn = body.fqdn === undefined ? before?.fqdn ?? null : body.fqdn;
      configs[id] = { enabled: body.enabled, listen, fqdn, updatedAt: ctx.clock.now() };
      writeEndpointConfigs(ctx.dataDir, configs);
      accessOf(ctx).kick(id);
      sendJson(res, 200, view(ctx, id, configs[id]));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/clusters\/([^/]+)\/endpoint$/,
    name: '/v1/clusters/:id/endpoint',
    async handle(ctx, req, res, [id = '']) {
      const p = await authenticateUser(ctx, req);
      const visible = p.globalRole === 'admin' || (await ctx.store.listBindings({ clusterId: id, userName: p.user })).length > 0;
      // Invisible and non-existent clusters answer alike (as the proxy does).
      if (!visible || !(await ctx.store.getCluster(id))) throw new ServerError('CLUSTER_NOT_FOUND', `no cluster ${id} that you may see`);
      sendJson(res, 200, view(ctx, id, readEndpointConfigs(ctx.dataDir)[id]));
    },
  },
];
