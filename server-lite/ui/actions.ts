// The dashboard's state changes (POST, form-encoded): create and revoke tokens, download a
// kubeconfig (which mints a token). Each is allowed by the same rule as its API endpoint; the
// caller has already checked the session, the Origin and the CSRF token (dashboard.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerError } from '../errors.ts';
import { createJoinToken, createTokenSchema } from '../api/admin-api.ts';
import { mint } from '../api/user-api.ts';
import { requireSelfOrAdmin } from '../auth/guard.ts';
import { PlanError } from '../plans/errors.ts';
import { securityHeaders, type Page } from './layout.ts';
import { kubeconfigDocument } from './kubeconfig.ts';
import { tokensPage, TTL_CHOICES } from './pages/tokens.ts';
import type { UiDeps } from './pages/deps.ts';
import { canAdminister, canSeeCluster, type Viewer } from './viewer.ts';

/** Lifetime of the API token inside a downloaded kubeconfig (as `drover kubeconfig --user`'s default). */
const KUBECONFIG_TTL_SECONDS = 30 * 86_400;

export type ActionResult = { page: Page } | { redirect: string } | { download: { name: string; type: string; body: string } };

const ttlOf = (form: URLSearchParams): number => {
  const n = Number(form.get('ttlSeconds'));
  return TTL_CHOICES.some((c) => c.seconds === n) ? n : 30 * 86_400;
};

/** "k=v,k2=v2" as labels; the schema (createTokenSchema) judges keys and values. */
export function parseLabelList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ServerError('INVALID_REQUEST', `label "${part}" is not key=value`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

export async function runAction(deps: UiDeps, viewer: Viewer, req: IncomingMessage, path: string, form: URLSearchParams): Promise<ActionResult> {
  const { ctx } = deps;
  if (path === '/ui/tokens/api') {
    requireSelfOrAdmin(viewer.principal, viewer.principal.user);
    if (!(await ctx.store.getUser(viewer.principal.user))) throw new ServerError('USER_NOT_FOUND', `${viewer.principal.user} has no user account (the admin token cannot own API tokens)`);
    const created = await mint(ctx, viewer.principal.user, ttlOf(form), (form.get('description') ?? '').slice(0, 200));
    return { page: await tokensPage(deps, viewer, { created: { kind: 'api', id: created.id, token: created.token } }) };
  }
  let m = /^\/ui\/tokens\/api\/([^/]+)\/revoke$/.exec(path);
  if (m) {
    const id = m[1] ?? '';
    const token = await ctx.store.getUserToken(id);
    // As DELETE /v1/users/NAME/tokens/ID: the owner or an admin.
    if (!token) throw new ServerError('USER_TOKEN_NOT_FOUND', `no API token ${id}`);
    requireSelfOrAdmin(viewer.principal, token.userName);
    await ctx.store.revokeUserToken(id, ctx.clock.now());
    ctx.log.info({ user: token.userName, tokenId: id, by: viewer.principal.user }, 'API token revoked (dashboard)');
    return { redirect: '/ui/tokens' };
  }
  if (path === '/ui/tokens/join') {
    if (!canAdminister(viewer)) throw new ServerError('FORBIDDEN', `user ${viewer.principal.user} may not create join tokens; this needs admin`);
    const clusterId = (form.get('clusterId') ?? '').trim();
    const labels = parseLabelList(form.get('labels') ?? '');
    const body = createTokenSchema.safeParse({
      ttlSeconds: ttlOf(form),
      uses: Number(form.get('uses') ?? '1'),
      ...(clusterId ? { clusterId } : {}),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
    });
    if (!body.success) return { page: await tokensPage(deps, viewer, { error: `Join token not created: ${body.error.issues.map((i) => `${i.path.join('.') || 'form'}: ${i.message}`).join('; ')}` }) };
    const created = await createJoinToken(ctx, body.data);
    return { page: await tokensPage(deps, viewer, { created: { kind: 'join', id: created.id, token: created.token } }) };
  }
  m = /^\/ui\/tokens\/join\/([^/]+)\/revoke$/.exec(path);
  if (m) {
    if (!canAdminister(viewer)) throw new ServerError('FORBIDDEN', `user ${viewer.principal.user} may not revoke join tokens; this needs admin`);
    if (!(await ctx.store.revokeToken(m[1] ?? '', ctx.clock.now()))) throw new ServerError('TOKEN_NOT_FOUND', `no join token ${m[1] ?? ''}`);
    ctx.log.info({ tokenId: m[1], by: viewer.principal.user }, 'join token revoked (dashboard)');
    return { redirect: '/ui/tokens' };
  }
  m = /^\/ui\/plans\/([^/]+)\/(pause|resume|cancel)$/.exec(path);
  if (m) {
    // As POST /v1/plans/NAME/pause|resume|cancel: admins only.
    if (!canAdminister(viewer)) throw new ServerError('FORBIDDEN', `user ${viewer.principal.user} may not control plans; this needs admin`);
    if (!deps.plans) throw new ServerError('NOT_FOUND', 'node plans are not served by this server');
    const name = decodeURIComponent(m[1] ?? '');
    try {
      await deps.plans.control(name, m[2] as 'pause' | 'resume' | 'cancel');
    } catch (err) {
      if (err instanceof PlanError) throw new ServerError('NOT_FOUND', err.message);
      throw err;
    }
    ctx.log.info({ plan: name, action: m[2], by: viewer.principal.user }, 'plan control (dashboard)');
    return { redirect: `/ui/plans/${encodeURIComponent(name)}` };
  }
  m = /^\/ui\/clusters\/([^/]+)\/kubeconfig$/.exec(path);
  if (m) {
    const id = decodeURIComponent(m[1] ?? '');
    if (!canSeeCluster(viewer, id) || !(await ctx.store.getCluster(id))) throw new ServerError('CLUSTER_NOT_FOUND', `no cluster ${id} (or you hold no role on it)`);
    // A local user gets a fresh token of their own (revocable on its own); the admin token's
    // session gets the admin token, as `drover kubeconfig` without --user does.
    const token = viewer.principal.idp === 'local' ? (await mint(ctx, viewer.principal.user, KUBECONFIG_TTL_SECONDS, `kubeconfig ${id} (dashboard)`)).token : viewer.bearer;
    const host = req.headers.host ?? '127.0.0.1';
    const body = kubeconfigDocument({ server: `https://${host}/k8s/clusters/${encodeURIComponent(id)}`, caPem: ctx.tls.caPem, token, name: `drover-${id}`, user: `${viewer.principal.user}@drover` });
    return { download: { name: `${id}.kubeconfig`, type: 'application/yaml', body } };
  }
  throw new ServerError('NOT_FOUND', `no dashboard action ${path}`);
}

export function sendDownload(res: ServerResponse, d: { name: string; type: string; body: string }): void {
  securityHeaders(res);
  res.writeHead(200, { 'content-type': `${d.type}; charset=utf-8`, 'content-disposition': `attachment; filename="${d.name.replace(/[^A-Za-z0-9._-]/g, '_')}"` });
  res.end(d.body);
}
