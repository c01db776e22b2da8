// LDAP login and group lookup (issue 18) over ldapts (decision 0960). A login is: connect (LDAPS, or
// LDAP upgraded with StartTLS before anything else is sent; the configured CA pinned), bind as the
// service account, find exactly one user entry with an escaped equality filter (RFC 4515: a name
// like `*)(uid=*` matches nobody), bind as that entry's DN with the user's password, then read the
// groups whose member attribute names that DN. Membership refreshes (`lookup`) do the same without
// the user's bind. An empty password is refused before any bind: LDAP treats a simple bind with
// an empty password as an anonymous bind that succeeds (RFC 4513 §5.1.2).
import { Client, InvalidCredentialsError, type Entry } from 'ldapts';
import { and, equalityFilter } from './ldap-filter.ts';
import type { LdapConfig } from './provider-config.ts';
import { ProviderError, type ExternalIdentity } from './provider-error.ts';

/** One LDAP operation, or the connection, taking longer than this counts as the provider down. */
export const LDAP_TIMEOUT_MS = 10_000;
/** At most this many group entries are read for one user; more is refused as oversized. */
export const LDAP_MAX_GROUPS = 256;
export const LDAP_MAX_USERNAME = 256;

const firstString = (e: Entry, attr: string): string | undefined => {
  const key = Object.keys(e).find((k) => k.toLowerCase() === attr.toLowerCase());
  const v = key === undefined ? undefined : e[key];
  const one = Array.isArray(v) ? v[0] : v;
  return typeof one === 'string' ? one : Buffer.isBuffer(one) ? one.toString('utf8') : undefined;
};

async function open(cfg: LdapConfig): Promise<Client> {
  const tls = () => ({ ...(cfg.caPem ? { ca: cfg.caPem } : {}), minVersion: 'TLSv1.2' as const });
  // ldapts: TLS options given to the client for an ldap:// URL break a later StartTLS (the upgrade
  // then fails its handshake), so they go to the client only for ldaps://, and fresh to startTLS.
  const ldaps = cfg.url.startsWith('ldaps:');
  const client = new Client({ url: cfg.url.replace(/\/$/, ''), timeout: LDAP_TIMEOUT_MS, connectTimeout: LDAP_TIMEOUT_MS, ...(ldaps ? { tlsOptions: tls() } : {}) });
  if (cfg.startTls) await client.startTLS(tls());
  return client;
}

/** Maps what went wrong talking to the server: unreachable, TLS refused, timeouts → 503. */
function unavailable(err: unknown, url: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as NodeJS.ErrnoException;
  return new ProviderError('unavailable', `LDAP server ${url} did not answer (${e.code ?? e.name}: ${String(e.message).slice(0, 200)})`);
}

async function serviceBind(client: Client, cfg: LdapConfig, bindPassword: string): Promise<void> {
  try {
    await client.bind(cfg.bindDn, bindPassword);
  } catch (err) {
    if (err instanceof InvalidCredentialsError) throw new ProviderError('misconfigured', `the LDAP server refused the service account ${cfg.bindDn}: check the provider's bind password`);
    throw err;
  }
}

async function findUser(client: Client, cfg: LdapConfig, username: string): Promise<{ dn: string; name: string } | undefined> {
  const filter = and(equalityFilter(cfg.userAttribute, username), cfg.userFilter ?? '');
  // sizeLimit 2: enough to see a name is ambiguous (ldapts returns the partial result, no error).
  const { searchEntries } = await client.search(cfg.userBase, { scope: 'sub', filter, attributes: [cfg.userAttribute], sizeLimit: 2 });
  if (searchEntries.length !== 1) return undefined;
  const [entry] = searchEntries;
  if (!entry) return undefined;
  return { dn: entry.dn, name: firstString(entry, cfg.userAttribute) ?? username };
}

async function groupsOf(client: Client, cfg: LdapConfig, dn: string): Promise<string[]> {
  const filter = and(equalityFilter(cfg.groupMemberAttribute, dn), cfg.groupFilter ?? '');
  const { searchEntries } = await client.search(cfg.groupBase, { scope: 'sub', filter, attributes: [cfg.groupNameAttribute], sizeLimit: LDAP_MAX_GROUPS + 1 });
  if (searchEntries.length > LDAP_MAX_GROUPS) throw new ProviderError('refused', `the user is in more than ${LDAP_MAX_GROUPS} groups`);
  return [...new Set(searchEntries.map((e) => firstString(e, cfg.groupNameAttribute)).filter((g): g is string => g !== undefined && g.length > 0 && g.length <= 256))].sort();
}

function checkUsername(username: string): void {
  if (username.length === 0 || username.length > LDAP_MAX_USERNAME || /[\u0000-\u001f]/.test(username)) {
    throw new ProviderError('refused', `an LDAP user name must have 1 to ${LDAP_MAX_USERNAME} printable characters`);
  }
}

async function withClient<T>(cfg: LdapConfig, work: (c: Client) => Promise<T>): Promise<T> {
  let client: Client | undefined;
  try {
    client = await open(cfg);
    return await work(client);
  } catch (err) {
    throw unavailable(err, cfg.url);
  } finally {
    await client?.unbind().catch(() => {});
  }
}

/** Checks a user's password; undefined for an unknown user or a wrong password (indistinguishable). */
export async function ldapLogin(cfg: LdapConfig, bindPassword: string, username: string, password: string): Promise<ExternalIdentity | undefined> {
  checkUsername(username);
  if (password.length === 0) return undefined;
  return withClient(cfg, async (client) => {
    await serviceBind(client, cfg, bindPassword);
    const user = await findUser(client, cfg, username);
    if (!user) return undefined;
    try {
      await client.bind(user.dn, password);
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return undefined;
      throw err;
    }
    // Groups are read as the service account: users often may not read group entries.
    await serviceBind(client, cfg, bindPassword);
    return { subject: user.dn, username: user.name, groups: await groupsOf(client, cfg, user.dn) };
  });
}

/** Re-reads a user's groups (membership refresh); undefined when the user is gone. */
export async function ldapLookup(cfg: LdapConfig, bindPassword: string, username: string): Promise<ExternalIdentity | undefined> {
  checkUsername(username);
  return withClient(cfg, async (client) => {
    await serviceBind(client, cfg, bindPassword);
    const user = await findUser(client, cfg, username);
    if (!user) return undefined;
    return { subject: user.dn, username: user.name, groups: await groupsOf(client, cfg, user.dn) };
  });
}
