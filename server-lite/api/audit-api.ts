// The audit trail over HTTP (admins only): page through rows, and verify the hash chain over the
// whole store (audit/chain-verification.ts), naming the first row that was edited or that follows a deleted one.
import { z } from 'zod';
import { LIMITS } from '../limits.ts';
import { sendJson } from '../http/body.ts';
import type { Route } from '../http/router.ts';
import { requireAdmin } from '../auth/guard.ts';
import { jsonLine } from '../audit/audit-writer.ts';
import { verifyAuditChain } from '../audit/chain-verification.ts';
import { ServerError } from '../errors.ts';

const query = z.object({
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.auditPageMax).optional(),
});

export const auditRoutes: readonly Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/audit$/,
    name: '/v1/audit',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      const q = query.safeParse(Object.fromEntries(new URL(req.url ?? '/', 'https://x').searchParams));
      if (!q.success) throw new ServerError('INVALID_REQUEST', 'after and limit are non-negative integers');
      await ctx.audit.flush();
      const rows = await ctx.store.listAudit({ afterSeq: q.data.after ?? 0, limit: q.data.limit ?? LIMITS.auditPageMax });
      sendJson(res, 200, rows.map(jsonLine));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/audit\/verify$/,
    name: '/v1/audit/verify',
    async handle(ctx, req, res) {
      await requireAdmin(ctx, req);
      sendJson(res, 200, await verifyAuditChain(ctx));
    },
  },
];
