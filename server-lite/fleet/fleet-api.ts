// The fleet HTTP API (docs/api.md, ARCHITECTURE.md §3): bundles pushed as a tar.gz of a directory,
// bundle list/status/delete, gitrepos, cluster groups and the git webhook. Admin only, except the
// webhook, which is authenticated by its own secret (DROVER_FLEET_WEBHOOK_SECRET) when one is set.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { requireAdmin } from '../auth/guard.ts';
import { readBody, readJson, sendJson, sendNoContent } from '../http/body.ts';
import type { Route } from '../http/router.ts';
import type { ServerContext } from '../context.ts';
import { FleetError, isFleetError } from './errors.ts';
import { FLEET_LIMITS } from './limits.ts';
import { parseSelectorString } from './label-selector.ts';
import { parseWebhook, gitreposForPush } from './webhook.ts';
import { parseTarget } from './target-spec.ts';
import type { FleetService } from './fleet-service.ts';

export { parseTarget };
import { STATUS_EVENTS_PER_AGENT } from './fleet-store.ts';

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;


function sendFleetError(res: ServerResponse, e: FleetError): void {
  sendJson(res, e.status, { error: e.toJSON() });
}

/** Fleet errors answer with their own code and status; anything else goes to the router. */
function guarded(handle: (ctx: ServerContext, req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<void>): Route['handle'] {
  return async (ctx, req, res, params) => {
    try {
      await handle(ctx, req, res, params);
    } catch (e) {
      if (!isFleetError(e)) throw e;
      req.resume();
      sendFleetError(res, e);
    }
  };
}

const gitRepoBody = z.object({
  name: z.string().regex(NAME),
  repo: z.string().min(1).max(2048),
  branch: z.string().max(256).optional(),
  revision: z.string().max(256).optional(),
  paths: z.array(z.string().max(1024)).max(100).optional(),
  pollIntervalSeconds: z.int().min(1).max(86_400).default(15),
  targets: z.array(z.string().min(1).max(4096)).max(100).optional(),
  // Source credentials (issue 19): secret names, never values.
  clientSecretName: z.string().min(1).max(63).optional(),
  helmSecretName: z.string().min(1).max(63).optional(),
  helmRepoURLRegex: z.string().min(1).max(1024).optional(),
  insecureSkipTLSVerify: z.boolean().optional(),
  caBundle: z.string().max(64 * 1024).optional(),
});

const groupBody = z.object({ name: z.string().regex(NAME), selector: z.string().min(1).max(4096) });

/**
 * The fleet API lives under `/v1/fleet/`; ARCHITECTURE.md §4 also names `bundles`, `gitrepos` (and
 * we add `clustergroups`) among the `/v1/…` resources, so every such route is served at both
 * prefixes. Lists are JSON arrays at `/v1/X`, like `/v1/clusters`, and `{"X": [...]}` under
 * `/v1/fleet/X` (what the CLI reads).
 */
function withContractPaths(routes: readonly Route[]): Route[] {
  const out = [...routes];
  for (const r of routes) {
    if (!/^\/v1\/fleet\/(bundles|gitrepos|clustergroups)(\/|$)/.test(r.name)) continue;
    out.push({ ...r, pattern: new RegExp(r.pattern.source.replace('\\/v1\\/fleet\\/', '\\/v1\\/'), r.pattern.flags), name: r.name.replace('/v1/fleet/', '/v1/') });
  }
  return out;
}

export function fleetRoutes(fleet: FleetService): Route[] {
  const m = fleet.manager;
  const lists: Record<'bundles' | 'gitrepos' | 'clustergroups', () => Promise<unknown[]>> = {
    bundles: () => m.list(),
    gitrepos: async () => {
      const bundles = await m.store.bundles();
      return (await fleet.store.gitRepos()).map((g) => ({ name: g.name, ...g.spec, commit: g.commit, error: g.error, polledAt: g.polledAt, bundles: bundles.filter((b) => b.source === `git:${g.name}`).map((b) => b.name),
        // The chart version each Helm bundle's helm.version resolved to (issue 19).
        charts: bundles.filter((b) => b.source === `git:${g.name}`).flatMap((b) => { const c = fleet.charts.get(b.name); return c ? [{ bundle: b.name, ...c }] : []; }) }));
    },
    clustergroups: () => fleet.store.groups(),
  };
  const listRoutes = (Object.keys(lists) as (keyof typeof lists)[]).flatMap((key): Route[] => [
    {
      method: 'GET', pattern: new RegExp(`^/v1/fleet/${key}$`), name: `/v1/fleet/${key}`,
      handle: guarded(async (ctx, req, res) => {
        await requireAdmin(ctx, req);
        sendJson(res, 200, { [key]: await lists[key]() });
      }),
    },
    {
      method: 'GET', pattern: new RegExp(`^/v1/${key}$`), name: `/v1/${key}`,
      handle: guarded(async (ctx, req, res) => {
        await requireAdmin(ctx, req);
        sendJson(res, 200, await lists[key]());
      }),
    },
  ]);
  return [...listRoutes, ...withContractPaths([
    {
      method: 'POST', pattern: /^\/v1\/fleet\/bundles$/, name: '/v1/fleet/bundles',
      handle: guarded(async (ctx, req, res) => {
        await requireAdmin(ctx, req);
        const url = new URL(req.url ?? '/', 'https://x');
        const name = url.searchParams.get('name') ?? '';
        if (!NAME.test(name)) throw new FleetError('SOURCE_ARCHIVE_INVALID', `bundle name "${name}" must be a DNS label (lowercase letters, digits, '-')`);
        const targets = url.searchParams.getAll('target').map(parseTarget);
        const archive = await readBody(req, FLEET_LIMITS.maxSourceArchiveBytes);
        const strict = url.searchParams.get('strict') === 'true';
        const results = await m.applyArchive(archive, { name, namespace: url.searchParams.get('namespace') ?? undefined, targets: targets.length > 0 ? targets : undefined, ...(strict ? { strict } : {}) });
        sendJson(res, results.every((r) => r.ok) ? 200 : 422, { bundles: results });
      }),
    },
    {
      method: 'GET', pattern: /^\/v1\/fleet\/bundles\/([^/]+)$/, name: '/v1/fleet/bundles/:name',
      handle: guarded(async (ctx, req, res, [name]) => {
        await requireAdmin(ctx, req);
        const s = await m.status(name ?? '');
        if (!s) throw new FleetError('BUNDLE_NOT_FOUND', `no bundle named ${name}`);
        sendJson(res, 200, s);
      }),
    },
    {
      method: 'GET', pattern: /^\/v1\/fleet\/bundles\/([^/]+)\/history$/, name: '/v1/fleet/bundles/:name/history',
      handle: guarded(async (ctx, req, res, [name]) => {
        await requireAdmin(ctx, req);
        if (!(await m.store.bundle(name ?? ''))) throw new FleetError('BUNDLE_NOT_FOUND', `no bundle named ${name}`);
        sendJson(res, 200, { history: await m.store.history(name ?? '') });
      }),
    },
    {
      method: 'GET', pattern: /^\/v1\/fleet\/bundles\/([^/]+)\/events$/, name: '/v1/fleet/bundles/:name/events',
      handle: guarded(async (ctx, req, res, [name]) => {
        await requireAdmin(ctx, req);
        const url = new URL(req.url ?? '/', 'https://x');
        const limitText = url.searchParams.get('limit') ?? '100';
        const limit = Number(limitText);
        if (!/^\d+$/.test(limitText) || limit < 1 || limit > STATUS_EVENTS_PER_AGENT * 10) {
          sendJson(res, 400, { error: { code: 'INVALID_REQUEST', message: `limit must be a whole number from 1 to ${STATUS_EVENTS_PER_AGENT * 10}, got "${limitText}"` } });
          return;
        }
        const events = await m.events(name ?? '', { cluster: url.searchParams.get('cluster') ?? undefined, limit });
        if (!events) throw new FleetError('BUNDLE_NOT_FOUND', `no bundle named ${name}`);
        sendJson(res, 200, { events });
      }),
    },
    {
      method: 'GET', pattern: /^\/v1\/fleet\/clusters$/, name: '/v1/fleet/clusters',
      handle: guarded(async (ctx, req, res) => {
        await requireAdmin(ctx, req);
        const clusters = [...(await m.clusters()).values()].map((c) => ({ id: c.id, state: c.state, summary: c.summary, bundles: c.bundles.length, ready: c.summary.ready }));
        sendJson(res, 200, { clusters });
      }),
    },
    {
      method: 'GET', pattern: /^\/v1\/fleet\/clusters\/([^/]+)$/, name: '/v1/fleet/clusters/:id',
      handle: guarded(async (ctx, req, res, [id]) => {
        await requireAdmin(ctx, req);
        sendJson(res, 200, await m.cluster(id ?? ''));
      }),
    },
    {
      method: 'DELETE', pattern: /^\/v1\/fleet\/bundles\/([^/]+)$/, name: '/v1/fleet/bundles/:name',
      handle: guarded(async (ctx, req, res, [name]) => {
        await requireAdmin(ctx, req);
        if (!(await m.deleteBundle(name ?? ''))) throw new FleetError('BUNDLE_NOT_FOUND', `no bundle named ${name}`);
        sendNoContent(res);
      }),
    },
    {
      method: 'POST', pattern: /^\/v1\/fleet\/gitrepos$/, name: '/v1/fleet/gitrepos',
      handle: guarded(async (ctx, req, res) => {
        await requireAdmin(ctx, req);
        const b = await readJson(req, gitRepoBody);
        b.targets?.forEach(parseTarget); // a malformed selector is refused now, not at every poll
        if (b.helmRepoURLRegex !== undefined) {
          try {
            new RegExp(b.helmRepoURLRegex);
          } catch (e) {
            throw new FleetError('SELECTOR_INVALID', `helmRepoURLRegex is not a regular expression: ${(e as Error).message}`);
          }
        }
        await fleet.addGitRepo(b.name, {
          repo: b.repo, branch: b.branch, revision: b.revision, paths: b.paths, pollIntervalSeconds: b.pollIntervalSeconds, targets: b.targets,
          clientSecretName: b.clientSecretName, helmSecretName: b.helmSecretName, helmRepoURLRegex: b.helmRepoURLRegex, insecureSkipTLSVerify: b.insecureSkipTLSVerify, caBundle: b.caBundle,
        });
        sendJson(res, 201, { name: b.name });
      }),
    },
    {
      method: 'DELETE', pattern: /^\/v1\/fleet\/gitrepos\/([^/]+)$/, name: '/v1/fleet/gitrepos/:name',
      handle: guarded(async (ctx, req, res, [name]) => {
        await requireAdmin(ctx, req);
        if (!(await fleet.deleteGitRepo(name ?? ''))) throw new FleetError('GITREPO_NOT_FOUND', `no gitrepo named ${name}`);
        sendNoContent(res);
      }),
    },
    {
      method: 'POST', pattern: /^\/v1\/fleet\/clustergroups$/, name: '/v1/fleet/clustergroups',
      handle: guarded(async (ctx, req, res) => {
        await requireAdmin(ctx, req);
        const b = await readJson(req, groupBody);
        await fleet.store.putGroup(b.name, parseSelectorString(b.selector), Date.now());
        // Bundles whose targets name this group are rendered again for it.
        void fleet.retarget(true);
        await m.plan();
        sendJson(res, 201, { name: b.name });
      }),
    },
    {
      method: 'DELETE', pattern: /^\/v1\/fleet\/clustergroups\/([^/]+)$/, name: '/v1/fleet/clustergroups/:name',
      handle: guarded(async (ctx, req, res, [name]) => {
        await requireAdmin(ctx, req);
        if (!(await fleet.store.deleteGroup(name ?? ''))) throw new FleetError('CLUSTERGROUP_NOT_FOUND', `no cluster group named ${name}`);
        void fleet.retarget(true);
        sendNoContent(res);
      }),
    },
    {
      method: 'POST', pattern: /^\/v1\/fleet\/webhook$/, name: '/v1/fleet/webhook',
      handle: guarded(async (_ctx, req, res) => {
        const body = await readBody(req, FLEET_LIMITS.maxWebhookBytes);
        const event = parseWebhook(req.headers, body, process.env.DROVER_FLEET_WEBHOOK_SECRET || undefined);
        const names = gitreposForPush(event, (await fleet.store.gitRepos()).map((g) => ({ name: g.name, repo: g.spec.repo, branch: g.spec.branch, revision: g.spec.revision })));
        fleet.pollNow(names);
        sendJson(res, 202, { polled: names });
      }),
    },
  ])];
}
