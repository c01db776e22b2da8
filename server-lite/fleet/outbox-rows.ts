// Outbox rows as a fleet agent sends them (GET /v1/fleet/outbox), checked before anything is
// stored. Agents are not trusted: one row of the wrong shape (a number where the message goes, a
// missing bundle) used to make the store throw for the whole batch, so the agent's reporting
// stalled forever on that row (issue 14). Now each row is checked on its own: a bad row is
// quarantined (kept, with why, for an operator) and its sequence number is consumed like any other,
// so the rows after it still arrive, once and in order. Only an answer whose rows cannot be put in
// sequence order at all (no `rows` array, a row without an integer `seq`) is refused as a whole.
// The row and answer schemas are the wire contract (protocol/contracts/fleet.ts), shared with the agent.
import { z } from 'zod';
import { outboxAnswerSchema, outboxRowSchema as rowSchema } from '../../protocol/index.ts';

export const MAX_QUARANTINED_RAW_BYTES = 4096;

export type OutboxRow = z.infer<typeof rowSchema>;

export interface QuarantinedRow {
  seq: number;
  reason: string;
  /** The row as received, cut at MAX_QUARANTINED_RAW_BYTES. */
  raw: string;
}

export interface CheckedRows {
  rows: OutboxRow[];
  quarantined: QuarantinedRow[];
}

const seqOnly = z.object({ seq: z.int().min(1) }).loose();

function rawText(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return Buffer.from(text).subarray(0, MAX_QUARANTINED_RAW_BYTES).toString('utf8');
}

/** Splits an agent's answer into valid rows and quarantined ones; throws when it has no order. */
export function checkOutboxRows(answer: unknown): CheckedRows {
  const answered = outboxAnswerSchema.safeParse(answer);
  if (!answered.success) throw new Error('outbox: the agent answered without a rows array');
  const out: CheckedRows = { rows: [], quarantined: [] };
  for (const row of answered.data.rows) {
    const seq = seqOnly.safeParse(row);
    if (!seq.success) throw new Error(`outbox: a row without an integer seq (${rawText(row).slice(0, 200)})`);
    const parsed = rowSchema.safeParse(row);
    if (parsed.success) out.rows.push(parsed.data);
    else {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      out.quarantined.push({ seq: seq.data.seq, reason: `${where}${issue?.message ?? 'invalid row'}`.slice(0, 512), raw: rawText(row) });
    }
  }
  return out;
}
