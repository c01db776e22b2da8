// Which proxy, if any, to use for a server URL: HTTPS_PROXY / https_proxy and NO_PROXY / no_proxy
// as curl and Go read them. Pure (the environment is passed in) so the matching rules are tested
// without sockets. Only http:// proxies speaking CONNECT are supported (the usual edge setup).
import { AgentError } from './errors.ts';

export type ProxyEnv = Readonly<Record<string, string | undefined>>;

function envValue(env: ProxyEnv, name: string): string | undefined {
  const v = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * True when NO_PROXY exempts host:port. Entries: `*`; a host or IP (exact); `.example.com`
 * or `example.com` (the domain and its subdomains); any entry may carry `:port`.
 */
export function noProxyMatches(noProxy: string | undefined, hostname: string, port: number): boolean {
  if (!noProxy) return false;
  const host = stripBrackets(hostname.toLowerCase()).replace(/\.$/, '');
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = splitHostPort(raw.trim().toLowerCase());
    if (entry.host === '') continue;
    if (entry.host === '*') return true;
    if (entry.port !== undefined && entry.port !== port) continue;
    const name = entry.host.replace(/^\*?\./, '.');
    if (name.startsWith('.')) {
      if (host === name.slice(1) || host.endsWith(name)) return true;
    } else if (host === name || host.endsWith(`.${name}`)) {
      return true;
    }
  }
  return false;
}

/** `[v6]:port`, `host:port`, bare host or bare IPv6 (two or more colons, no brackets). */
function splitHostPort(entry: string): { host: string; port: number | undefined } {
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1] ?? '', port: bracketed[2] ? Number(bracketed[2]) : undefined };
  const colons = entry.split(':').length - 1;
  if (colons === 1) {
    const [h, p] = entry.split(':') as [string, string];
    return { host: h, port: /^\d+$/.test(p) ? Number(p) : undefined };
  }
  return { host: entry, port: undefined };
}

/** The proxy URL to tunnel `serverUrl` through, or undefined for a direct connection. */
export function proxyForUrl(serverUrl: string, env: ProxyEnv): URL | undefined {
  const target = new URL(serverUrl);
  const raw = envValue(env, 'https_proxy');
  if (!raw) return undefined;
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  if (noProxyMatches(envValue(env, 'no_proxy'), target.hostname, port)) return undefined;
  let proxy: URL;
  try {
    proxy = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new AgentError('INVALID_CONFIG', `HTTPS_PROXY "${raw}" is not a URL; expected http://HOST:PORT`);
  }
  if (proxy.protocol !== 'http:') {
    throw new AgentError('INVALID_CONFIG', `HTTPS_PROXY "${raw}": only http:// CONNECT proxies are supported`);
  }
  return proxy;
}

/** For logs: the proxy without credentials. */
export function describeProxy(proxy: URL | undefined): string {
  return proxy ? `${proxy.protocol}//${proxy.host}` : 'direct';
}
