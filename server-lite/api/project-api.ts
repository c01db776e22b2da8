// Projects (issue 24): a named group of namespaces of one cluster with its own owners, members and
// readers. Project roles reach the cluster as RoleBindings in the project's namespaces only, built
// on the same ClusterRoles as the cluster roles (rbac/desired.ts); every change kicks the RBAC
// propagator for the project's cluster. Admins manage projects; a user lists the projects they hold
// a role in.
import { z } from 'zod';
import { ServerError } from '../errors.ts';
import { readJson, sendJson, sendNoContent } from '../http/body.ts';
import type { Route } from '../http/router.ts';
import type { ServerContext } from '../context.ts';
import { authenticateUser, requireAdmin } from '../auth/guard.ts';
import { PROJECT_ROLES, type ProjectRecord } from '../store/store.ts';
import { PROTECTED_NAMESPACES } from '../rbac/role-model.ts';

const iso = (ms: number): string => new Date(ms).toISOString();
/** Short enough that `drover-project-<name>-member` stays a valid drover RBAC name. */
const projectName = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/, 'lowercase letters, digits and - (max 40)');
const namespace = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a Kubernetes namespace name (RFC 1123 label)')
  .refine((n) => !PROTECTED_NAMESPACES.includes(n), { message: `protected namespaces (${PROTECTED_NAMESPACES.join(', ')}) cannot join a project` });
const namespaces = z.array(namespace).max(256);

const createSchema = z.object({ name: projectName, clusterId: z.string().min(1).max(64), namespaces: namespaces.optional() }).strict();
const patchSchema = z.object({ addNamespaces: namespaces.optional(), removeNamespaces: namespaces.optional() }).strict();
const bindingSchema = z.object({ user: z.string().min(1).max(64), role: z.enum(PROJECT_ROLES) }).strict();

async function mustGetProject(ctx: ServerContext, name: string): Promise<ProjectRecord> {
  const p = await ctx.store.getProject(name);
  if (!p) throw new ServerError('PROJECT_NOT_FOUND', `no project ${name} (see drover project list)`);
  return p;
}

async function projectView(ctx: ServerContext, p: ProjectRecord) {
  const bindings = await ctx.store.listProjectBindings({ project: p.name });
  return {
    name: p.name,
    clusterId: p.clusterId,
    namespaces: p.namespaces,
    createdAt: iso(p.createdAt),
    bindings: bindings.map((b) => ({ user: b.userName, role: b.role, createdAt: iso(b.createdAt) })),
    propagation: await ctx.rbac.state(p.clusterId),
  };
}

/** A namespace belongs to at most one project of a cluster (as in Rancher). */
async function checkFree(ctx: ServerContext, clusterId: string, project: string, wanted: readonly string[]): Promise<void> {
  for (const other of await ctx.store.listProjects({ clusterId })) {
    if (other.name === project) continue;
    const taken = wanted.filter((n) => other.namespaces.includes(n));
    if (taken.length > 0) throw new ServerError('INVALID_REQUEST', `namespace ${taken.join(', ')} already belongs to project ${other.name}`);
  }
}

export const projectRoutes: readonly Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/projects$/,
    name: '/v1/projects',
    async handle(ctx, req, res) {
      const p = await authenticateUser(ctx, req);
      let projects = await ctx.store.listProjects();
      if (p.globalRole !== 'admin') {
        const mine = new Set((await ctx.store.listProjectBindings({ userName: p.user })).map((b) => b.project));
        projects = projects.filter((x) => mine.has(x.name));
      }
      sendJson(res, 200, await Promise.all(projects.map((x) => projectView(ctx, x))));
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/projects$/,
    name: '/v1/projects',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      const body = await readJson(req, createSchema);
      if (!(await ctx.store.getCluster(body.clusterId))) throw new ServerError('CLUSTER_NOT_FOUND', `no cluster ${body.clusterId} (see drover cluster list)`);
      const ns = [...new Set(body.namespaces ?? [])].sort();
      await checkFree(ctx, body.clusterId, body.name, ns);
      const record = { name: body.name, clusterId: body.clusterId, namespaces: ns, createdAt: ctx.clock.now() };
      if (!(await ctx.store.createProject(record))) throw new ServerError('PROJECT_EXISTS', `a project named ${body.name} exists already`);
      ctx.log.info({ project: body.name, clusterId: body.clusterId, namespaces: ns }, 'project created');
      sendJson(res, 201, await projectView(ctx, record));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/projects\/([^/]+)$/,
    name: '/v1/projects/:name',
    async handle(ctx, req, res, [name = '']) {
      const p = await authenticateUser(ctx, req);
      const project = await mustGetProject(ctx, name);
      if (p.globalRole !== 'admin' && (await ctx.store.listProjectBindings({ project: name, userName: p.user })).length === 0) {
        throw new ServerError('PROJECT_NOT_FOUND', `no project ${name} (see drover project list)`);
      }
      sendJson(res, 200, await projectView(ctx, project));
    },
  },
  {
    method: 'PATCH',
    pattern: /^\/v1\/projects\/([^/]+)$/,
    name: '/v1/projects/:name',
    async handle(ctx, req, res, [name = '']) {
      await requireAdmin(ctx, req);
      const body = await readJson(req, patchSchema);
      const project = await mustGetProject(ctx, name);
      const add = body.addNamespaces ?? [];
      await checkFree(ctx, project.clusterId, name, add);
      const next = [...new Set([...project.namespaces, ...add])].filter((n) => !(body.removeNamespaces ?? []).includes(n));
      const updated = await ctx.store.setProjectNamespaces(name, next);
      ctx.rbac.kick(project.clusterId);
      ctx.log.info({ project: name, namespaces: updated?.namespaces }, 'project namespaces changed');
      sendJson(res, 200, await projectView(ctx, updated ?? project));
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/projects\/([^/]+)$/,
    name: '/v1/projects/:name',
    async handle(ctx, req, res, [name = '']) {
      await requireAdmin(ctx, req);
      const project = await mustGetProject(ctx, name);
      await ctx.store.deleteProject(name);
      ctx.rbac.kick(project.clusterId);
      ctx.log.info({ project: name }, 'project deleted');
      sendNoContent(res);
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/projects\/([^/]+)\/bindings$/,
    name: '/v1/projects/:name/bindings',
    async handle(ctx, req, res, [name = '']) {
      await requireAdmin(ctx, req);
      const body = await readJson(req, bindingSchema);
      const project = await mustGetProject(ctx, name);
      if (!(await ctx.store.getUser(body.user))) throw new ServerError('USER_NOT_FOUND', `no user ${body.user} (see drover user list)`);
      const created = await ctx.store.bindProjectRole({ userName: body.user, project: name, role: body.role, createdAt: ctx.clock.now() });
      ctx.rbac.kick(project.clusterId);
      ctx.log.info({ user: body.user, project: name, role: body.role, created }, 'project role bound');
      sendJson(res, created ? 201 : 200, { ...body, project: name, created });
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/projects\/([^/]+)\/bindings\/([^/]+)\/([^/]+)$/,
    name: '/v1/projects/:name/bindings/:user/:role',
    async handle(ctx, req, res, [name = '', user = '', role = '']) {
      await requireAdmin(ctx, req);
      const project = await mustGetProject(ctx, name);
      const r = z.enum(PROJECT_ROLES).safeParse(role);
      if (!r.success || !(await ctx.store.unbindProjectRole(user, name, r.data))) {
        throw new ServerError('BINDING_NOT_FOUND', `user ${user} holds no role ${role} in project ${name}`);
      }
      ctx.rbac.kick(project.clusterId);
      sendNoContent(res);
    },
  },
];
