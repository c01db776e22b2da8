// Identity providers as the server sees them (issue 18): configuring them (the secret sealed), a
// login through one (LDAP: user name and password; OIDC: authorization code with PKCE, started and
// finished by the caller, the CLI or the web UI), and the membership refresh that keeps group
// bindings honest: a user's groups are re-read when older than the provider's group TTL, at the
// first request after that; a user the provider no longer knows loses their tokens and bindings.
// A provider that cannot be asked fails closed (503) for its users only: local users and the admin
// token never touch it. Users are named `PROVIDER:LOGIN` (a local name cannot contain `:`), groups
// `PROVIDER:GROUP`, so one provider can never speak for another's users or groups.
import type { Logger } from 'pino';
import { ServerError } from '../../errors.ts';
import { LIMITS } from '../../limits.ts';
import { hashSecret, newSecret, type RandomBytes } from '../../secrets.ts';
import type { ExternalUserRecord, ProviderRecord, Store } from '../../store/store.ts';
import { formatUserToken, newUserTokenId } from '../principal.ts';
import { ldapLogin, ldapLookup } from './ldap-provider.ts';
import { authorizationUrl, discover, exchangeCode, forgetIssuer, refresh, type TokenAnswer } from './oidc-client.ts';
import { codeChallenge, PendingLogins } from './pending-logins.ts';
import { ldapConfigSchema, oidcConfigSchema, RESERVED_PROVIDER_NAMES, type LdapConfig, type OidcConfig, type ProviderConfig } from './provider-config.ts';
import { ProviderError, type ExternalIdentity } from './provider-error.ts';
import type { Sealer } from './sealed-value.ts';

/** Logins at a provider become Drover names with these characters only (lowercased). */
const LOGIN = /^[a-z0-9][a-z0-9._@+-]{0,127}$/;

export interface ProviderView {
  name: string;
  kind: 'ldap' | 'oidc';
  config: ProviderConfig;
  createdAt: string;
}

export interface Minted {
  token: string;
  user: string;
  provider: string;
  groups: string[];
  expiresAt: string | null;
}

/** What an authenticated external user is, for the principal and the audit row. */
export interface ExternalPrincipal {
  idp: 'ldap' | 'oidc';
  provider: string;
}

export interface ProviderServiceDeps {
  store: Store;
  sealer: Sealer;
  now: () => number;
  random: RandomBytes;
  log: Logger;
  /** Called with each cluster whose effective bindings may have changed (RBAC propagation). */
  kick: (clusterId: string) => void;
}

export const qualifiedUser = (provider: string, login: string): string => `${provider}:${login}`;
export const qualifiedGroup = (provider: string, group: string): string => `${provider}:${group}`;

function toServerError(err: unknown, provider: string): ServerError {
  if (err instanceof ServerError) return err;
  if (err instanceof ProviderError) {
    if (err.problem === 'unavailable') return new ServerError('PROVIDER_UNAVAILABLE', `identity provider ${provider} is unavailable: ${err.message}`);
    if (err.problem === 'misconfigured') return new ServerError('PROVIDER_MISCONFIGURED', `identity provider ${provider}: ${err.message}`);
    return new ServerError('LOGIN_FAILED', `identity provider ${provider}: ${err.message}`);
  }
  return new ServerError('INTERNAL');
}

export class ProviderService {
  readonly #d: ProviderServiceDeps;
  readonly #pending = new PendingLogins();
  /** One membership refresh per user at a time; concurrent requests share it. */
  readonly #refreshing = new Map<string, Promise<ExternalPrincipal>>();

  constructor(deps: ProviderServiceDeps) {
    this.#d = deps;
  }

  async add(name: string, config: unknown, secret: string): Promise<ProviderView> {
    if (RESERVED_PROVIDER_NAMES.includes(name)) throw new ServerError('INVALID_REQUEST', `${name} is reserved for built-in callers; choose another provider name`);
    const kind = (config as { kind?: unknown } | null)?.kind;
    const parsed = (kind === 'ldap' ? ldapConfigSchema : oidcConfigSchema).safeParse(config);
    if (!parsed.success) {
      throw new ServerError('INVALID_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; '));
    }
    if (secret.length === 0) throw new ServerError('INVALID_REQUEST', kind === 'ldap' ? 'the bind password is empty' : 'the client secret is empty');
    const record: ProviderRecord = {
      name,
      kind: parsed.data.kind,
      config: parsed.data as unknown as Record<string, unknown>,
      sealedSecret: this.#d.sealer.seal(secret, `provider:${name}`),
      createdAt: this.#d.now(),
    };
    if (!(await this.#d.store.createProvider(record))) throw new ServerError('PROVIDER_EXISTS', `identity provider ${name} exists already (remove it first)`);
    this.#d.log.info({ provider: name, kind: record.kind }, 'identity provider added');
    return view(record);
  }

  async list(): Promise<ProviderView[]> {
    return (await this.#d.store.listProviders()).map(view);
  }

  async get(name: string): Promise<ProviderView> {
    return view(await this.#record(name));
  }

  /** Removes the provider; its users lose their tokens and bindings at once. */
  async remove(name: string): Promise<{ users: string[] }> {
    const record = await this.#record(name);
    const clusters = await this.#clustersOfUsers(await this.#usersOf(name));
    const { users } = await this.#d.store.deleteProvider(name);
    if (record.kind === 'oidc') forgetIssuer((record.config as OidcConfig).issuer);
    for (const c of clusters) this.#d.kick(c);
    this.#d.log.info({ provider: name, users: users.length }, 'identity provider removed');
    return { users };
  }

  async ldapLogin(name: string, username: string, password: string, ttlSeconds?: number): Promise<Minted> {
    const record = await this.#record(name);
    if (record.kind !== 'ldap') throw new ServerError('INVALID_REQUEST', `identity provider ${name} is ${record.kind}: log in with drover login --provider ${name} (browser)`);
    let identity: ExternalIdentity | undefined;
    try {
      identity = await ldapLogin(record.config as LdapConfig, this.#secret(record), username, password);
    } catch (err) {
      throw toServerError(err, name);
    }
    if (!identity) throw new ServerError('LOGIN_FAILED', `wrong user name or password at identity provider ${name}`);
    return this.#loggedIn(record, identity, null, ttlSeconds);
  }

  /** Starts an OIDC login: the URL to send the browser to, and the state it will come back with. */
  async oidcStart(name: string, redirectUri: string): Promise<{ authorizationUrl: string; state: string }> {
    const record = await this.#record(name);
    if (record.kind !== 'oidc') throw new ServerError('INVALID_REQUEST', `identity provider ${name} is ${record.kind}: log in with a user name and password`);
    const cfg = record.config as OidcConfig;
    try {
      const { discovery } = await discover(cfg, this.#d.now(), true);
      const p = this.#pending.start(name, redirectUri, this.#d.now(), this.#d.random);
      return { authorizationUrl: authorizationUrl(cfg, discovery, { redirectUri, state: p.state, nonce: p.nonce, codeChallenge: codeChallenge(p.verifier) }), state: p.state };
    } catch (err) {
      throw toServerError(err, name);
    }
  }

  /** Finishes an OIDC login with the code the provider sent to the redirect URI. */
  async oidcFinish(name: string, state: string, code: string, ttlSeconds?: number): Promise<Minted> {
    const record = await this.#record(name);
    const pending = this.#pending.take(name, state, this.#d.now());
    if (!pending) throw new ServerError('LOGIN_FAILED', 'this login is unknown, used or expired (10 minutes): start it again');
    let answer: TokenAnswer | undefined;
    try {
      answer = await exchangeCode(record.config as OidcConfig, this.#secret(record), { code, redirectUri: pending.redirectUri, verifier: pending.verifier, nonce: pending.nonce }, this.#d.now());
    } catch (err) {
      throw toServerError(err, name);
    }
    if (!answer) throw new ServerError('LOGIN_FAILED', `identity provider ${name} refused the authorization code (used, expired or for another client)`);
    const sealed = answer.refreshToken ? this.#d.sealer.seal(answer.refreshToken, `refresh:${name}`) : null;
    return this.#loggedIn(record, answer.identity, sealed, ttlSeconds);
  }

  /**
   * For the principal of a request: undefined for users who are not from a provider; else the
   * provider, after refreshing the user's groups when they are older than the provider's TTL.
   */
  async principalFor(userName: string): Promise<ExternalPrincipal | undefined> {
    const ext = await this.#d.store.getExternalUser(userName);
    if (!ext) return undefined;
    const record = await this.#d.store.getProvider(ext.provider);
    if (!record) throw new ServerError('UNAUTHENTICATED', `identity provider ${ext.provider} was removed`);
    const ttlMs = (record.config as { groupTtlSeconds: number }).groupTtlSeconds * 1000;
    if (this.#d.now() - ext.refreshedAt < ttlMs) return { idp: record.kind, provider: record.name };
    let running = this.#refreshing.get(userName);
    if (!running) {
      running = this.#refresh(record, ext).finally(() => this.#refreshing.delete(userName));
      this.#refreshing.set(userName, running);
    }
    return running;
  }

  async #refresh(record: ProviderRecord, ext: ExternalUserRecord): Promise<ExternalPrincipal> {
    let identity: ExternalIdentity | undefined;
    let sealed = ext.sealedRefresh;
    try {
      if (record.kind === 'ldap') {
        identity = await ldapLookup(record.config as LdapConfig, this.#secret(record), ext.login);
      } else if (ext.sealedRefresh !== null) {
        const answer = await refresh(record.config as OidcConfig, this.#secret(record), this.#d.sealer.open(ext.sealedRefresh, `refresh:${record.name}`), this.#d.now());
        identity = answer?.identity;
        if (answer?.refreshToken) sealed = this.#d.sealer.seal(answer.refreshToken, `refresh:${record.name}`);
      }
    } catch (err) {
      throw toServerError(err, record.name);
    }
    if (!identity || identity.subject !== ext.subject) {
      // Gone at the provider (or, for OIDC, the refresh was refused): no more access through Drover.
      const clusters = await this.#clustersOfUsers([ext.userName]);
      await this.#d.store.deleteUser(ext.userName);
      for (const c of clusters) this.#d.kick(c);
      this.#d.log.info({ user: ext.userName, provider: record.name }, 'external user no longer known to the provider: access removed');
      throw new ServerError('UNAUTHENTICATED', `identity provider ${record.name} no longer vouches for ${ext.userName}; log in again (drover login --provider ${record.name})`);
    }
    await this.#save(record, identity, sealed, ext.groups);
    return { idp: record.kind, provider: record.name };
  }

  async #loggedIn(record: ProviderRecord, identity: ExternalIdentity, sealedRefresh: string | null, ttlSeconds: number | undefined): Promise<Minted> {
    const before = await this.#d.store.getExternalUser(qualifiedUser(record.name, identity.username.toLowerCase()));
    const ext = await this.#save(record, identity, sealedRefresh, before?.groups ?? []);
    const now = this.#d.now();
    const ttlMs = ttlSeconds === undefined ? LIMITS.userTokenTtlMs : ttlSeconds * 1000;
    const secret = newSecret(this.#d.random);
    const id = newUserTokenId(this.#d.random);
    const expiresAt = ttlMs === 0 ? null : now + ttlMs;
    await this.#d.store.createUserToken({ id, userName: ext.userName, secretHash: hashSecret(secret), description: `login via ${record.name}`, createdAt: now, expiresAt, revokedAt: null });
    this.#d.log.info({ user: ext.userName, provider: record.name, tokenId: id, groups: ext.groups.length }, 'external login');
    return { token: formatUserToken(id, secret), user: ext.userName, provider: record.name, groups: ext.groups, expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString() };
  }

  /** Stores identity and groups; kicks the clusters whose group bindings changed for this user. */
  async #save(record: ProviderRecord, identity: ExternalIdentity, sealedRefresh: string | null, oldGroups: readonly string[]): Promise<ExternalUserRecord> {
    const login = identity.username.toLowerCase();
    if (!LOGIN.test(login)) throw new ServerError('LOGIN_FAILED', `identity provider ${record.name} names the user ${JSON.stringify(identity.username.slice(0, 80))}, which Drover cannot use as a name (letters, digits, . _ @ + -)`);
    const ext: ExternalUserRecord = {
      userName: qualifiedUser(record.name, login),
      provider: record.name,
      login,
      subject: identity.subject,
      groups: identity.groups.map((g) => qualifiedGroup(record.name, g)),
      refreshedAt: this.#d.now(),
      sealedRefresh,
    };
    const existing = await this.#d.store.getUser(ext.userName);
    const known = await this.#d.store.getExternalUser(ext.userName);
    if (existing && !known) throw new ServerError('LOGIN_FAILED', `${ext.userName} exists as a local user`);
    await this.#d.store.saveExternalUser(ext, this.#d.now());
    const changed = new Set([...oldGroups.filter((g) => !ext.groups.includes(g)), ...ext.groups.filter((g) => !oldGroups.includes(g))]);
    if (changed.size > 0) {
      for (const c of new Set((await this.#d.store.listGroupBindings()).filter((b) => changed.has(b.group)).map((b) => b.clusterId))) this.#d.kick(c);
    }
    return ext;
  }

  async #usersOf(provider: string): Promise<string[]> {
    const users = await this.#d.store.listUsers();
    return users.map((u) => u.name).filter((n) => n.startsWith(`${provider}:`));
  }

  async #clustersOfUsers(users: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const u of users) for (const b of await this.#d.store.listBindings({ userName: u })) out.add(b.clusterId);
    return out;
  }

  async #record(name: string): Promise<ProviderRecord> {
    const r = await this.#d.store.getProvider(name);
    if (!r) throw new ServerError('PROVIDER_NOT_FOUND', `no identity provider ${name} (see drover auth provider list)`);
    return r;
  }

  #secret(record: ProviderRecord): string {
    return this.#d.sealer.open(record.sealedSecret, `provider:${record.name}`);
  }
}

function view(r: ProviderRecord): ProviderView {
  return { name: r.name, kind: r.kind, config: r.config as unknown as ProviderConfig, createdAt: new Date(r.createdAt).toISOString() };
}
