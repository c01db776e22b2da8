// Pure helpers of the Kubernetes proxy: parse `/k8s/clusters/{id}/…`, choose which client headers
// travel to the agent (never the caller's bearer token, never any Impersonate-*: the agent sets
// those from the authenticated identity), and name the Kubernetes verb of a request for the audit.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export const PROXY_PREFIX = '/k8s/clusters/';

/** `{ clusterId, path }` (path with query, starting with `/`), or undefined when not a proxy URL. */
export function parseProxyUrl(url: string): { clusterId: string; path: string } | undefined {
  if (!url.startsWith(PROXY_PREFIX)) return undefined;
  const rest = url.slice(PROXY_PREFIX.length);
  const m = /^([a-z0-9-]{1,64})(?=[/?]|$)(.*)$/.exec(rest);
  if (!m?.[1]) return undefined;
  const tail = m[2] ?? '';
  return { clusterId: m[1], path: tail.startsWith('/') ? tail : `/${tail}` };
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and ours: not forwarded in either direction. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

/** True for a header the client may never pass to the cluster (identity is set by the agent). */
export function isImpersonation(name: string): boolean {
  return name.toLowerCase().startsWith('impersonate-');
}

/**
 * Headers forwarded to the agent. `upgrade`: keep Connection/Upgrade (exec, attach, port-forward).
 * Authorization is dropped: the caller's Drover token must never reach the cluster.
 */
export function forwardHeaders(headers: IncomingHttpHeaders, upgrade: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const n = name.toLowerCase();
    if (n === 'authorization' || isImpersonation(n) || n.startsWith('x-drover-')) continue;
    if (HOP_BY_HOP.has(n) && !(upgrade && (n === 'connection' || n === 'upgrade'))) continue;
    out[n] = value;
  }
  return out;
}

/** Response headers passed back to the client (hop-by-hop removed; Node re-frames the body). */
export function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

/** Kubernetes' verb for a request (shared with the cluster agent's local endpoint). */
export { kubeVerb } from '../../protocol/index.ts';
