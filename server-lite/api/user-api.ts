// Users, their API tokens, login and cluster role bindings (issue 5; docs/api.md "Users and roles").
// Admins manage everyone; a `user` may read themself, manage their own tokens and list their own
// bindings. Binding changes kick the RBAC propagator for that cluster.
import { z } from 'zod';
import type { IncomingMessage } from 'node:http';
import { ServerError } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import { hashSecret, newSecret } from '../secrets.ts';
import { readJson, sendJson, sendNoContent } from '../http/body.ts';
import type { Route } from '../http/router.ts';
import type { ServerContext } from '../context.ts';
import { authenticateUser, rememberPrincipal, requireAdmin, requireSelfOrAdmin } from '../auth/guard.ts';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { BUILTIN_ADMIN, formatUserToken, newUserTokenId } from '../auth/principal.ts';
import { CLUSTER_ROLES, GLOBAL_ROLES, type UserRecord, type UserTokenRecord } from '../store/store.ts';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const userName = z.string().regex(/^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/, 'lowercase letters, digits, . _ - (max 64)');
const password = z.string().min(8, 'at least 8 characters').max(1024);
const ttlSeconds = z.int().min(0).max(10 * 365 * 24 * 3600);

const userView = (u: UserRecord) => ({ name: u.name, globalRole: u.globalRole, hasPassword: u.passwordHash !== null, createdAt: iso(u.createdAt) });
const tokenView = (t: UserTokenRecord, now: number) => ({
  id: t.id,
  user: t.userName,
  description: t.description,
  state: t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= now ? 'expired' : 'active',
  createdAt: iso(t.createdAt),
  expiresAt: iso(t.expiresAt),
  revokedAt: iso(t.revokedAt),
});

/** Mints an API token for a user; the secret leaves only in this answer (also the dashboard's). */
export async function mint(ctx: ServerContext, user: string, ttl: number | undefined, description: string) {
  const now = ctx.clock.now();
  const ttlMs = ttl === undefined ? LIMITS.userTokenTtlMs : ttl * 1000;
  const secret = newSecret(ctx.random);
  const record: UserTokenRecord = {
    id: newUserTokenId(ctx.random),
    userName: user,
    secretHash: hashSecret(secret),
    description,
    createdAt: now,
    expiresAt: ttlMs === 0 ? null : now + ttlMs,
    revokedAt: null,
  };
  await ctx.store.createUserToken(record);
  ctx.log.info({ user, tokenId: record.id }, 'API token created');
  return { token: formatUserToken(record.id, secret), ...tokenView(record, now) };
}

/**
 * Checks a local user's password (POST /v1/login, the dashboard's login form); throws LOGIN_FAILED.
 * The attempt is audited under the name tried, so repeated failures for one account stand out.
 */
export async function passwordLogin(ctx: ServerContext, req: IncomingMessage, username: string, password: string): Promise<UserRecord> {
  const user = await ctx.store.getUser(username);
  rememberPrincipal(req, { user: username.slice(0, 64), idp: 'local', globalRole: user?.globalRole ?? 'user', tokenId: null });
  // Same answer, same work for an unknown user and a wrong password.
  const ok = user?.passwordHash ? await verifyPassword(password, user.passwordHash) : (await verifyPassword(password, DUMMY_HASH), false);
  if (!user || !ok) throw new ServerError('LOGIN_FAILED');
  return user;
}

async function mustGetUser(ctx: ServerContext, name: string): Promise<UserRecord> {
  const u = await ctx.store.getUser(name);
  if (!u) throw new ServerError('USER_NOT_FOUND', `no user ${name} (see drover user list)`);
  return u;
}

const bindingSchema = z.object({ user: userName, clusterId: z.string().min(1).max(64), role: z.enum(CLUSTER_ROLES) }).strict();

export const userRoutes: readonly Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/login$/,
    name: '/v1/login',
    async handle(ctx, req, res) {
      const body = await readJson(req, z.object({ username: z.string().max(64), password: z.string().max(1024), ttlSeconds: ttlSeconds.optional() }).strict());
      const user = await passwordLogin(ctx, req, body.username, body.password);
      sendJson(res, 201, await mint(ctx, user.name, body.ttlSeconds, 'login'));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/whoami$/,
    name: '/v1/whoami',
    async handle(ctx, req, res) {
      const p = await authenticateUser(ctx, req);
      sendJson(res, 200, { user: p.user, idp: p.idp, globalRole: p.globalRole, tokenId: p.tokenId });
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/users$/,
    name: '/v1/users',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      sendJson(res, 200, (await ctx.store.listUsers()).map(userView));
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/users$/,
    name: '/v1/users',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      const body = await readJson(req, z.object({ name: userName, password: password.optional(), globalRole: z.enum(GLOBAL_ROLES).optional() }).strict());
      if (body.name === BUILTIN_ADMIN) throw new ServerError('USER_EXISTS', `${BUILTIN_ADMIN} is the built-in admin (the admin token)`);
      const user: UserRecord = {
        name: body.name,
        globalRole: body.globalRole ?? 'user',
        passwordHash: body.password === undefined ? null : await hashPassword(body.password, ctx.random),
        createdAt: ctx.clock.now(),
      };
      if (!(await ctx.store.createUser(user))) throw new ServerError('USER_EXISTS', `user ${body.name} exists already`);
      ctx.log.info({ user: user.name, globalRole: user.globalRole }, 'user created');
      sendJson(res, 201, userView(user));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/users\/([^/]+)$/,
    name: '/v1/users/:name',
    async handle(ctx, req, res, [name = '']) {
      requireSelfOrAdmin(await authenticateUser(ctx, req), name);
      sendJson(res, 200, { ...userView(await mustGetUser(ctx, name)), bindings: await ctx.store.listBindings({ userName: name }) });
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/users\/([^/]+)$/,
    name: '/v1/users/:name',
    async handle(ctx, req, res, [name = '']) {
      await requireAdmin(ctx, req);
      const clusters = new Set((await ctx.store.listBindings({ userName: name })).map((b) => b.clusterId));
      for (const b of await ctx.store.listProjectBindings({ userName: name })) {
        const p = await ctx.store.getProject(b.project);
        if (p) clusters.add(p.clusterId);
      }
      if (!(await ctx.store.deleteUser(name))) throw new ServerError('USER_NOT_FOUND', `no user ${name}`);
      for (const c of clusters) ctx.rbac.kick(c);
      sendNoContent(res);
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/users\/([^/]+)\/tokens$/,
    name: '/v1/users/:name/tokens',
    async handle(ctx, req, res, [name = '']) {
      requireSelfOrAdmin(await authenticateUser(ctx, req), name);
      const body = await readJson(req, z.object({ ttlSeconds: ttlSeconds.optional(), description: z.string().max(200).optional() }).strict(), { emptyAsObject: true });
      await mustGetUser(ctx, name);
      sendJson(res, 201, await mint(ctx, name, body.ttlSeconds, body.description ?? ''));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/users\/([^/]+)\/tokens$/,
    name: '/v1/users/:name/tokens',
    async handle(ctx, req, res, [name = '']) {
      requireSelfOrAdmin(await authenticateUser(ctx, req), name);
      const now = ctx.clock.now();
      sendJson(res, 200, (await ctx.store.listUserTokens(name)).map((t) => tokenView(t, now)));
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/users\/([^/]+)\/tokens\/([^/]+)$/,
    name: '/v1/users/:name/tokens/:id',
    async handle(ctx, req, res, [name = '', id = '']) {
      requireSelfOrAdmin(await authenticateUser(ctx, req), name);
      const token = await ctx.store.getUserToken(id);
      if (!token || token.userName !== name) throw new ServerError('USER_TOKEN_NOT_FOUND', `user ${name} has no API token ${id}`);
      await ctx.store.revokeUserToken(id, ctx.clock.now());
      ctx.log.info({ user: name, tokenId: id }, 'API token revoked');
      sendNoContent(res);
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/rolebindings$/,
    name: '/v1/rolebindings',
    async handle(ctx, req, res) {
      const p = await authenticateUser(ctx, req);
      const all = await ctx.store.listBindings(p.globalRole === 'admin' ? {} : { userName: p.user });
      const states = new Map<string, string>();
      for (const c of new Set(all.map((b) => b.clusterId))) states.set(c, await ctx.rbac.state(c));
      sendJson(res, 200, all.map((b) => ({ user: b.userName, clusterId: b.clusterId, role: b.role, createdAt: iso(b.createdAt), propagation: states.get(b.clusterId) })));
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/rolebindings$/,
    name: '/v1/rolebindings',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      const body = await readJson(req, bindingSchema);
      await mustGetUser(ctx, body.user);
      if (!(await ctx.store.getCluster(body.clusterId))) throw new ServerError('CLUSTER_NOT_FOUND', `no cluster ${body.clusterId} (see drover cluster list)`);
      const created = await ctx.store.bindRole({ userName: body.user, clusterId: body.clusterId, role: body.role, createdAt: ctx.clock.now() });
      ctx.rbac.kick(body.clusterId);
      ctx.log.info({ user: body.user, clusterId: body.clusterId, role: body.role, created }, 'role bound');
      sendJson(res, created ? 201 : 200, { ...body, created });
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/rolebindings\/([^/]+)\/([^/]+)\/([^/]+)$/,
    name: '/v1/rolebindings/:user/:cluster/:role',
    async handle(ctx, req, res, [user = '', clusterId = '', role = '']) {
      await requireAdmin(ctx, req);
      const r = z.enum(CLUSTER_ROLES).safeParse(role);
      if (!r.success || !(await ctx.store.unbindRole(user, clusterId, r.data))) {
        throw new ServerError('BINDING_NOT_FOUND', `user ${user} holds no role ${role} on cluster ${clusterId}`);
      }
      ctx.rbac.kick(clusterId);
      ctx.log.info({ user, clusterId, role }, 'role unbound');
      sendNoContent(res);
    },
  },
];

/** Verified against when the user does not exist, so timing does not reveal user names. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
