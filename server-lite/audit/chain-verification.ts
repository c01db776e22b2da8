// Verifies the whole audit chain in the store, page by page, and the JSON-lines copy's last row
// (which shows when the chain's newest rows were deleted). Shared by GET /v1/audit/verify and the
// dashboard's audit page.
import { join } from 'node:path';
import type { ServerContext } from '../context.ts';
import { LIMITS } from '../limits.ts';
import { verifyChain, type ChainProblem } from './audit-chain.ts';
import { lastLogRow } from './audit-log-tail.ts';

export type ChainVerification =
  | { ok: true; checked: number; head: { seq: number; hash: string } | null }
  | { ok: false; checked: number; firstBad: ChainProblem };

export async function verifyAuditChain(ctx: ServerContext): Promise<ChainVerification> {
  await ctx.audit.flush();
  // Page through the chain, carrying the last good row across pages.
  let start: { seq: number; hash: string } | undefined;
  let checked = 0;
  for (;;) {
    const page = await ctx.store.listAudit({ afterSeq: start?.seq ?? 0, limit: LIMITS.auditPageMax });
    if (page.length === 0) break;
    const problem = verifyChain(page, start);
    if (problem) return { ok: false, checked: checked + page.findIndex((r) => r.seq === problem.seq), firstBad: problem };
    checked += page.length;
    const last = page.at(-1);
    start = last && { seq: last.seq, hash: last.hash };
  }
  // The chain cannot show that its newest rows were deleted; the JSON-lines copy can.
  const logged = lastLogRow(join(ctx.dataDir, 'audit.log'));
  if (logged && logged.seq > (start?.seq ?? 0)) return { ok: false, checked, firstBad: { seq: (start?.seq ?? 0) + 1, reason: 'missing-after' } };
  if (logged && start && logged.seq === start.seq && logged.hash !== start.hash) return { ok: false, checked: checked - 1, firstBad: { seq: start.seq, reason: 'edited' } };
  return { ok: true, checked, head: start ?? null };
}
