// The audit trail over HTTP (admins only): page through rows, and verify the hash chain over the
// whole store, naming the first row that was edited or that follows a deleted one.
import { z } from 'zod';
import { LIMITS } from '../limits.ts';
import { sendJson } from '../http/body.ts';
import type { Route } from '../http/router.ts';
import { requireAdmin } from '../auth/guard.ts';
import { jsonLine } from '../audit/audit-writer.ts';
import { verifyChain } from '../audit/audit-chain.ts';
import { ServerError } from '../errors.ts';
import { lastLogRow } from '../audit/audit-log-tail.ts';
import { join } from 'node:path';

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
      await ctx.audit.flush();
      // Page through the chain, carrying the last good row across pages.
      let start: { seq: number; hash: string } | undefined;
      let checked = 0;
      for (;;) {
        const page = await ctx.store.listAudit({ afterSeq: start?.seq ?? 0, limit: LIMITS.auditPageMax });
        if (page.length === 0) break;
        const problem = verifyChain(page, start);
        if (problem) {
          sendJson(res, 200, { ok: false, checked: checked + page.findIndex((r) => r.seq === problem.seq), firstBad: problem });
          return;
        }
        checked += page.length;
        const last = page.at(-1);
        start = last && { seq: last.seq, hash: last.hash };
      }
      // The chain cannot show that its newest rows were deleted; the JSON-lines copy can.
      const logged = lastLogRow(join(ctx.dataDir, 'audit.log'));
      if (logged && logged.seq > (start?.seq ?? 0)) {
        sendJson(res, 200, { ok: false, checked, firstBad: { seq: (start?.seq ?? 0) + 1, reason: 'missing-after' } });
        return;
      }
      if (logged && start && logged.seq === start.seq && logged.hash !== start.hash) {
        sendJson(res, 200, { ok: false, checked: checked - 1, firstBad: { seq: start.seq, reason: 'edited' } });
        return;
      }
      sendJson(res, 200, { ok: true, checked, head: start ?? null });
    },
  },
];
