// `/v1/secrets` (ARCHITECTURE.md §4): source credentials, admin only. Values go in (POST) and never
// come out: GET answers names, types and which fields are set. Request bodies are not audited
// (the audit row has method, path and status), and nothing here logs a value.
import { z } from 'zod';
import { requireAdmin } from '../auth/guard.ts';
import { ServerError } from '../errors.ts';
import { readJson, sendJson, sendNoContent } from '../http/body.ts';
import type { Route } from '../http/router.ts';
import { SecretStoreError, type SourceSecretStore } from './secret-store.ts';
import { SECRET_TYPES } from './source-secret.ts';

const createBody = z.object({
  name: z.string().min(1).max(63),
  type: z.enum(SECRET_TYPES),
  data: z.record(z.string().max(64), z.string().max(64 * 1024)),
  replace: z.boolean().optional(),
});

function asServerError(e: unknown): never {
  if (e instanceof SecretStoreError) throw new ServerError(e.code, e.message);
  throw e;
}

/** `changed(name)` runs after a secret is stored or replaced (the fleet polls the gitrepos using it). */
export function secretRoutes(store: SourceSecretStore, now: () => number, changed: (name: string) => void = () => {}): Route[] {
  return [
    {
      method: 'GET', pattern: /^\/v1\/secrets$/, name: '/v1/secrets',
      handle: async (ctx, req, res) => {
        await requireAdmin(ctx, req);
        sendJson(res, 200, store.list());
      },
    },
    {
      method: 'POST', pattern: /^\/v1\/secrets$/, name: '/v1/secrets',
      handle: async (ctx, req, res) => {
        await requireAdmin(ctx, req);
        const b = await readJson(req, createBody);
        try {
          await store.put({ name: b.name, type: b.type, data: b.data }, now(), { replace: b.replace === true });
        } catch (e) {
          asServerError(e);
        }
        ctx.log.info({ secret: b.name, type: b.type, replaced: b.replace === true }, 'source secret stored');
        changed(b.name);
        sendJson(res, 201, { name: b.name, type: b.type });
      },
    },
    {
      method: 'GET', pattern: /^\/v1\/secrets\/([^/]+)$/, name: '/v1/secrets/:name',
      handle: async (ctx, req, res, [name]) => {
        await requireAdmin(ctx, req);
        const s = store.list().find((x) => x.name === name);
        if (!s) throw new ServerError('SECRET_NOT_FOUND', `no source secret named ${name}`);
        sendJson(res, 200, s);
      },
    },
    {
      method: 'DELETE', pattern: /^\/v1\/secrets\/([^/]+)$/, name: '/v1/secrets/:name',
      handle: async (ctx, req, res, [name]) => {
        await requireAdmin(ctx, req);
        if (!(await store.delete(name ?? ''))) throw new ServerError('SECRET_NOT_FOUND', `no source secret named ${name}`);
        ctx.log.info({ secret: name }, 'source secret deleted');
        sendNoContent(res);
      },
    },
  ];
}
