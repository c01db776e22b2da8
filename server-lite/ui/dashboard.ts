// The web dashboard at /ui/ on the server's port (ARCHITECTURE.md §4): server-rendered pages, a
// session cookie holding an API bearer, CSRF tokens and an Origin check on every state change, a
// strict Content-Security-Policy, and the API's role rules (viewer.ts). server.ts is the only
// importer (the agent's entry point never loads this). Every /ui request except the static
// assets is audited like an API call, under the signed-in user.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerError } from '../errors.ts';
import { FleetError } from '../fleet/errors.ts';
import { readBody } from '../http/body.ts';
import { callerOf } from '../auth/caller.ts';
import { auditStatus } from '../http/audit-status.ts';
import { principalFor } from '../auth/principal.ts';
import { rememberPrincipal } from '../auth/guard.ts';
import { passwordLogin, mint } from '../api/user-api.ts';
import { html } from './html.ts';
import { assetFor } from './assets.ts';
import { layout, securityHeaders, type Page } from './layout.ts';
import { clearedSessionCookie, csrfValid, LOGIN_TOKEN_DESCRIPTION, sameOrigin, sessionBearer, sessionCookie, SESSION_TTL_SECONDS } from './session-cookie.ts';
import { csrfKey, viewerOf, type Viewer } from './viewer.ts';
import { LiveEvents } from './events.ts';
import { runAction, sendDownload } from './actions.ts';
import { renderPage } from './pages/index.ts';
import { loginPage } from './pages/login.ts';
import { finishSso, ldapSession, loginOptions, startSso } from './provider-login.ts';
import type { UiDeps } from './pages/deps.ts';
import { ClusterSnapshot } from './cluster-snapshot.ts';
import { SAMPLE_MS, StateHistory } from './state-history.ts';

export type { UiDeps } from './pages/deps.ts';

/** Form bodies are small: a token, a description, a few labels. */
const MAX_FORM_BYTES = 16 * 1024;
export const UI_PREFIX = '/ui';

export interface Dashboard {
  /** Answers the request and returns true when its path is under /ui. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  close(): void;
}

function sendPage(res: ServerResponse, viewer: Viewer | undefined, page: Page): void {
  securityHeaders(res);
  res.writeHead(page.status ?? 200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(layout(viewer, page));
}

function redirect(res: ServerResponse, to: string, cookie?: string): void {
  securityHeaders(res);
  res.writeHead(303, { location: to, ...(cookie ? { 'set-cookie': cookie } : {}) });
  res.end();
}

function errorPage(err: ServerError | FleetError): Page {
  return {
    title: err.status === 404 ? 'Not found' : err.status === 403 ? 'Not allowed' : 'Error',
    nav: 'none',
    status: err.status,
    main: html`<h1>${err.status === 403 ? 'Not allowed' : err.status === 404 ? 'Not found' : 'Something went wrong'}</h1>
      <p class="alert" role="alert" data-code="${err.code}">${err.message}</p><p><a href="/ui/clusters">Back to clusters</a></p>`,
  };
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    throw new ServerError('INVALID_REQUEST', 'dashboard forms are application/x-www-form-urlencoded');
  }
  return new URLSearchParams((await readBody(req, MAX_FORM_BYTES)).toString('utf8'));
}

export function createDashboard(wiring: Omit<UiDeps, 'clusters' | 'history'>): Dashboard {
  const history = new StateHistory();
  const deps: UiDeps = { ...wiring, history, clusters: new ClusterSnapshot(wiring.ctx, (views) => history.offer(wiring.ctx.clock.now(), views)) };
  const { ctx } = deps;
  // Sample the states while nobody is looking too (a snapshot build offers a sample).
  const sampler = setInterval(() => {
    deps.clusters.get().catch((err: unknown) => ctx.log.debug({ err }, 'cluster state sample failed'));
  }, SAMPLE_MS);
  sampler.unref();
  const live = new LiveEvents(deps);

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const next = form.get('next') ?? '/ui/clusters';
    const target = /^\/ui\/[a-z][^\s]*$/.test(next) && !next.startsWith('/ui//') ? next : '/ui/clusters';
    const token = form.get('token');
    const provider = form.get('provider');
    let bearer: string;
    let maxAge = SESSION_TTL_SECONDS;
    try {
      if (provider !== null) {
        bearer = await ldapSession(ctx, provider, (form.get('username') ?? '').slice(0, 256), (form.get('password') ?? '').slice(0, 1024));
      } else if (token !== null) {
        const p = await principalFor(token.trim(), { store: ctx.store, adminTokenHash: ctx.adminTokenHash, now: ctx.clock.now() });
        rememberPrincipal(req, p);
        bearer = token.trim();
      } else {
        const user = await passwordLogin(ctx, req, (form.get('username') ?? '').slice(0, 64), (form.get('password') ?? '').slice(0, 1024));
        // The session is an API token of its own, so logout (or an admin) can revoke it.
        bearer = (await mint(ctx, user.name, SESSION_TTL_SECONDS, LOGIN_TOKEN_DESCRIPTION)).token;
        maxAge = SESSION_TTL_SECONDS;
      }
    } catch (err) {
      if (err instanceof ServerError && (err.code === 'LOGIN_FAILED' || err.code === 'UNAUTHENTICATED')) {
        res.statusCode = 401;
        sendPage(res, undefined, loginPage(deps, { error: token !== null ? 'That token is not valid (wrong, expired or revoked).' : 'Wrong user name or password.', next: target, providers: await loginOptions(ctx) }));
        return;
      }
      throw err;
    }
    redirect(res, target, sessionCookie(bearer, maxAge));
  }

  async function logout(viewer: Viewer, res: ServerResponse): Promise<void> {
    const id = viewer.principal.tokenId;
    if (id !== null) {
      const t = await ctx.store.getUserToken(id);
      if (t?.description === LOGIN_TOKEN_DESCRIPTION) await ctx.store.revokeUserToken(id, ctx.clock.now());
    }
    redirect(res, '/ui/login', clearedSessionCookie());
  }

  async function serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/ui' || path === '/ui/') return redirect(res, '/ui/clusters');
    if (path === '/ui/login' && method === 'POST') {
      if (!sameOrigin(req.headers)) throw new ServerError('FORBIDDEN', 'this form was posted from another site');
      return login(req, res);
    }
    const sso = /^\/ui\/login\/(sso|callback)\/([^/]+)$/.exec(path);
    if (sso && method === 'GET') {
      const [, step = '', provider = ''] = sso;
      if (step === 'sso') return startSso(ctx, req, res, provider);
      try {
        const page = await finishSso(ctx, req, url, provider);
        securityHeaders(res);
        res.writeHead(200, page.headers);
        res.end(page.body);
      } catch (err) {
        if (!(err instanceof ServerError) || !['LOGIN_FAILED', 'PROVIDER_NOT_FOUND', 'PROVIDER_UNAVAILABLE', 'PROVIDER_MISCONFIGURED'].includes(err.code)) throw err;
        res.statusCode = err.status;
        sendPage(res, undefined, loginPage(deps, { error: err.message, providers: await loginOptions(ctx) }));
      }
      return;
    }
    const viewer = await viewerOf(ctx, req);
    if (path === '/ui/login') {
      if (viewer) return redirect(res, '/ui/clusters');
      // A cookie that no longer authenticates (revoked, expired) is cleared.
      if (sessionBearer(req.headers.cookie) !== undefined) res.setHeader('set-cookie', clearedSessionCookie());
      return sendPage(res, undefined, loginPage(deps, { next: url.searchParams.get('next') ?? undefined, providers: await loginOptions(ctx) }));
    }
    if (!viewer) {
      if (method !== 'GET' && method !== 'HEAD') {
        req.resume();
        throw new ServerError('UNAUTHENTICATED', 'sign in first (/ui/login)');
      }
      if (path === '/ui/events') throw new ServerError('UNAUTHENTICATED', 'sign in first (/ui/login)');
      return redirect(res, `/ui/login?next=${encodeURIComponent(path + url.search)}`);
    }
    if (method === 'POST') {
      // Same-site pages only, and the session's own CSRF token: a forged form fails both.
      const form = await readForm(req);
      if (!sameOrigin(req.headers) || !csrfValid(csrfKey(ctx), viewer.bearer, form.get('csrf') ?? undefined)) {
        throw new ServerError('FORBIDDEN', 'the form is missing its CSRF token or comes from another site; reload the page and try again');
      }
      if (path === '/ui/logout') return logout(viewer, res);
      const result = await runAction(deps, viewer, req, path, form);
      if ('redirect' in result) return redirect(res, result.redirect);
      if ('download' in result) return sendDownload(res, result.download);
      return sendPage(res, viewer, result.page);
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, POST');
      throw new ServerError('METHOD_NOT_ALLOWED', `${method} is not used by the dashboard`);
    }
    if (path === '/ui/events') return live.handle(viewer, req, res);
    sendPage(res, viewer, await renderPage(deps, viewer, url));
  }

  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'https://x');
      if (url.pathname !== UI_PREFIX && !url.pathname.startsWith(`${UI_PREFIX}/`)) return false;
      const asset = assetFor(url.pathname);
      if (asset) {
        res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable', etag: asset.etag, 'x-content-type-options': 'nosniff' });
        res.end(req.method === 'HEAD' ? undefined : asset.body);
        return true;
      }
      auditUiCall(deps, req, res, url.pathname);
      serve(req, res, url).catch(async (err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof ServerError || err instanceof FleetError) {
          if (err instanceof ServerError && err.code === 'UNAUTHENTICATED' && req.method !== 'GET') res.setHeader('set-cookie', clearedSessionCookie());
          const viewer = await viewerOf(ctx, req).catch(() => undefined);
          sendPage(res, viewer, errorPage(err));
          return;
        }
        ctx.log.error({ err, path: url.pathname }, 'dashboard request failed');
        sendPage(res, undefined, errorPage(new ServerError('INTERNAL')));
      });
      return true;
    },
    close() {
      clearInterval(sampler);
      live.closeAll();
    },
  };
}

/** One audit row per dashboard request (pages, events streams, forms), as for /v1/ calls. */
function auditUiCall(deps: UiDeps, req: IncomingMessage, res: ServerResponse, path: string): void {
  const { ctx } = deps;
  const at = ctx.clock.now();
  const t0 = performance.now();
  res.once('close', () => {
    const caller = callerOf(req);
    const m = /^\/ui\/clusters\/([^/]+)/.exec(path);
    ctx.audit.record({
      at,
      user: caller.user,
      idp: caller.idp,
      clusterId: m?.[1] ?? null,
      verb: (req.method ?? 'GET').toLowerCase(),
      path: path.slice(0, 300),
      status: auditStatus(res),
      latencyMs: Math.round((performance.now() - t0) * 10) / 10,
    });
  });
}

