// The ledger check of the fault suite: every status the agent recorded in its outbox (sequence
// numbers 1..last, minus those it coalesced under its bound) must be stored by the server exactly
// once and in the order the agent recorded them. Pure: it compares what the two databases say.

export interface AgentLedger {
  /** Highest outbox sequence number the agent ever gave out (sqlite_sequence). */
  lastSeq: number;
  /** Rows still waiting in the agent's outbox. */
  pending: number;
  /** Statuses the agent dropped itself because a newer one of the same deployment superseded them. */
  coalesced: number;
}

export interface ServerRow {
  seq: number;
  /** Server time when it was stored (ms). */
  receivedAt: number;
}

export interface LedgerResult {
  expected: number;
  stored: number;
  /** Statuses the agent recorded that the server never stored (beyond those the agent coalesced). */
  lost: number;
  /** Sequence numbers missing at the server (includes coalesced ones, which the agent dropped itself). */
  missing: number[];
  duplicated: number[];
  /** Pairs stored out of order: a higher seq stored strictly before a lower one. */
  reordered: number;
  serverLastSeq: number;
  /** The agent's last seq, which the server's last stored seq must equal. */
  agentLastSeq: number;
}

export function checkLedger(agent: AgentLedger, serverRows: readonly ServerRow[], serverLastSeq: number): LedgerResult {
  const counts = new Map<number, number>();
  for (const r of serverRows) counts.set(r.seq, (counts.get(r.seq) ?? 0) + 1);
  const duplicated = [...counts].filter(([, n]) => n > 1).map(([s]) => s);
  const missing: number[] = [];
  for (let s = 1; s <= agent.lastSeq; s++) if (!counts.has(s)) missing.push(s);
  // Order: by the time the server stored them, seqs must not go down.
  const byTime = [...serverRows].sort((a, b) => a.receivedAt - b.receivedAt || a.seq - b.seq);
  let reordered = 0;
  let maxSeen = 0;
  for (const r of byTime) {
    if (r.seq < maxSeen) reordered++;
    maxSeen = Math.max(maxSeen, r.seq);
  }
  return { expected: agent.lastSeq - agent.coalesced, stored: counts.size, lost: Math.max(0, missing.length - agent.coalesced) + agent.pending, missing, duplicated, reordered, serverLastSeq, agentLastSeq: agent.lastSeq };
}
