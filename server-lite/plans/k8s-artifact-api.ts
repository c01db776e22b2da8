// The artifact endpoints of Kubernetes upgrades (issue 15, docs/api.md): an admin imports a
// release's binaries (`POST /v1/artifacts/kubernetes/:version/:name?sha256=HEX`, the raw bytes as
// the body; `drover upgrade kubernetes --from DIR` does this), lists them (`GET /v1/artifacts`),
// and a node agent fetches one with its own credential (`GET /v1/agent/artifacts/kubernetes/
// :version/:name`, the recorded hash in `x-drover-sha256`); the agent verifies the hash its plan
// names before anything on the node stops.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { requireAdmin } from '../auth/guard.ts';
import { rememberAgent } from '../auth/caller.ts';
import { authenticate } from '../credentials.ts';
import { sendJson } from '../http/body.ts';
import type { Route } from '../http/router.ts';
import type { ServerContext } from '../context.ts';
import { bearer } from '../secrets.ts';
import { PlanError } from './errors.ts';
import type { K8sArtifactStore } from './k8s-artifacts.ts';

function answerPlanErrors(handle: (ctx: ServerContext, req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<void>): Route['handle'] {
  return async (ctx, req, res, params) => {
    try {
      await handle(ctx, req, res, params);
    } catch (e) {
      if (!(e instanceof PlanError)) throw e;
      req.resume();
      if (!res.headersSent) sendJson(res, e.status, { error: { code: e.code, message: e.message } });
      else res.destroy();
    }
  };
}

export function k8sArtifactRoutes(store: K8sArtifactStore): Route[] {
  return [
    {
      method: 'POST', pattern: /^\/v1\/artifacts\/kubernetes\/([^/]+)\/([^/]+)$/, name: '/v1/artifacts/kubernetes/:version/:name',
      handle: answerPlanErrors(async (ctx, req, res, [version = '', name = '']) => {
        await requireAdmin(ctx, req);
        const sha256 = new URL(req.url ?? '/', 'http://x').searchParams.get('sha256') ?? '';
        const a = await store.put(version, name, sha256, req);
        ctx.log.info({ version, name, sha256, size: a.size, created: a.created }, 'kubernetes artifact imported');
        sendJson(res, a.created ? 201 : 200, { version, name, sha256: a.sha256, size: a.size, created: a.created });
      }),
    },
    {
      method: 'GET', pattern: /^\/v1\/artifacts$/, name: '/v1/artifacts',
      handle: answerPlanErrors(async (ctx, req, res) => {
        await requireAdmin(ctx, req);
        sendJson(res, 200, store.list().map((a) => ({ kind: 'kubernetes', version: a.version, name: a.name, sha256: a.sha256, size: a.size })));
      }),
    },
    {
      method: 'GET', pattern: /^\/v1\/agent\/artifacts\/kubernetes\/([^/]+)\/([^/]+)$/, name: '/v1/agent/artifacts/kubernetes/:version/:name',
      handle: answerPlanErrors(async (ctx, req, res, [version = '', name = '']) => {
        const auth = await authenticate(bearer(req.headers.authorization), ctx.store, { allowPrevious: false });
        rememberAgent(req, auth.agent.id);
        const a = store.get(version, name);
        if (!a) throw new PlanError('ARTIFACT_NOT_FOUND', `the server has no ${version}/${name}; import it with drover upgrade kubernetes --from DIR`);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(a.size), 'x-drover-sha256': a.sha256 });
        if (req.method === 'HEAD') return void res.end();
        ctx.log.info({ agentId: auth.agent.id, version, name }, 'kubernetes artifact sent to a node agent');
        await pipeline(store.open(a), res);
      }),
    },
  ];
}
