// The audit hash chain (pure): each row's hash is sha256 over the previous row's hash and the row's
// fields in a fixed order, so editing a row breaks its own hash and deleting one breaks the link of
// the next (its prevHash, and the seq gap). `verifyChain` names the first row that fails.
import { createHash } from 'node:crypto';
import type { AuditFields, AuditRecord } from '../store/store.ts';

/** prevHash of the first row ever written. */
export const GENESIS_HASH = '0'.repeat(64);

export function auditHash(prevHash: string, seq: number, f: AuditFields): string {
  // An array, not an object: field order is part of the format and must never depend on key order.
  // `impersonated` and `provider` join the array only when set, so rows written before they
  // existed still verify; a provider always takes the 11th place (impersonated or null before it).
  const fields: unknown[] = [seq, f.at, f.user, f.idp, f.clusterId, f.verb, f.path, f.status, f.latencyMs];
  if (f.impersonated || f.provider) fields.push(f.impersonated ?? null);
  if (f.provider) fields.push(f.provider);
  const canonical = JSON.stringify(fields);
  return createHash('sha256').update(prevHash).update('\n').update(canonical).digest('hex');
}

/** Chains new rows after `last` (undefined: an empty log). */
export function chain(last: { seq: number; hash: string } | undefined, rows: readonly AuditFields[]): AuditRecord[] {
  let seq = last?.seq ?? 0;
  let prev = last?.hash ?? GENESIS_HASH;
  return rows.map((f) => {
    seq += 1;
    const hash = auditHash(prev, seq, f);
    const rec: AuditRecord = { ...f, seq, prevHash: prev, hash };
    prev = hash;
    return rec;
  });
}

/** `missing-after`: the newest rows are gone from the store (found by `audit verify` via the JSON log). */
export type ChainProblem = { seq: number; reason: 'edited' | 'missing-before' | 'link-broken' | 'missing-after' };

/**
 * Walks rows in seq order from `start` (the row before them, or the genesis). Returns the first
 * problem: `edited` (the row's hash is not its content's), `missing-before` (a seq gap: rows were
 * deleted before this one), `link-broken` (prevHash does not match the previous row).
 */
export function verifyChain(rows: Iterable<AuditRecord>, start?: { seq: number; hash: string }): ChainProblem | undefined {
  let prevSeq = start?.seq ?? 0;
  let prevHash = start?.hash ?? GENESIS_HASH;
  for (const r of rows) {
    if (r.seq !== prevSeq + 1) return { seq: r.seq, reason: 'missing-before' };
    if (r.prevHash !== prevHash) return { seq: r.seq, reason: 'link-broken' };
    if (auditHash(r.prevHash, r.seq, r) !== r.hash) return { seq: r.seq, reason: 'edited' };
    prevSeq = r.seq;
    prevHash = r.hash;
  }
  return undefined;
}
