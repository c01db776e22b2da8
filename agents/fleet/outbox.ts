// The status outbox (the sequenced-outbox rule is agents/common/outbox.ts, shared with the node
// agent's plan results): every status change of a deployment gets a sequence number that is never
// reused (AUTOINCREMENT), rows drain in sequence order and leave only when the server acknowledges
// a sequence, so the server can de-duplicate a status sent twice and never misses one.
// Bounded: past `maxRows`, the oldest statuses that a newer status of the same deployment has
// superseded are dropped (coalesced). The latest status of a deployment is never dropped, so at
// worst the outbox holds one row per deployment beyond the bound.
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { DeploymentState, DeploymentStatus } from './types.ts';
import { FLEET_AGENT_LIMITS } from './limits.ts';
import { createSeqOutbox } from '../common/outbox.ts';

export interface OutboxRow {
  seq: number;
  deploymentId: string;
  createdAt: string;
  status: DeploymentStatus;
}

export interface Outbox {
  /** Queues a status unless it equals the last one queued for that deployment; returns its seq. */
  enqueue(status: DeploymentStatus, now: Date): number | undefined;
  /** The oldest rows, in sequence order; they stay until acknowledged. */
  peek(limit?: number): OutboxRow[];
  /** The server has every row up to and including `seq`. Returns the rows removed. */
  ack(seq: number): number;
  length(): number;
  /** Statuses dropped because a newer one of the same deployment superseded them. */
  coalesced(): number;
}

/** What makes two statuses "the same change": everything but wording-free ordering noise. */
export function statusFingerprint(s: DeploymentStatus): string {
  const body = JSON.stringify([s.revision, s.state, s.message, [...s.nonReady].sort(), s.modified.map((m) => [m.ref, m.missing, m.fields])]);
  return createHash('sha256').update(body).digest('hex').slice(0, 32);
}

interface StoredRow { seq: number; deployment_id: string; revision: string; state: string; created_at: string; status: string }

/**
 * A row's status. A row whose status text is not JSON (a damaged file, an edit by hand) must not
 * stall reporting (issue 14): it is sent as what its own columns still say, with a message that
 * says the status was unreadable, and the server stores it in order like any other.
 */
function readStatus(r: StoredRow): DeploymentStatus {
  try {
    return JSON.parse(r.status) as DeploymentStatus;
  } catch (err) {
    return {
      deploymentId: r.deployment_id, bundle: r.deployment_id, revision: r.revision, appliedRevision: undefined,
      state: r.state as DeploymentState, message: `status unreadable in the agent's outbox (seq ${r.seq}): ${(err as Error).message}`.slice(0, 512),
      nonReady: [], modified: [],
    };
  }
}

export function createOutbox(db: Database, opts: { maxRows?: number } = {}): Outbox {
  const rows = createSeqOutbox(db, {
    table: 'fleet_outbox', keyColumn: 'deployment_id', bodyColumn: 'status', extraColumns: ['revision', 'state'],
    metaTable: 'fleet_meta', maxRows: opts.maxRows ?? FLEET_AGENT_LIMITS.OUTBOX_MAX_ROWS,
  });
  const latest = db.prepare(`INSERT INTO fleet_status (deployment_id, state, status, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (deployment_id) DO UPDATE SET state = excluded.state, status = excluded.status, updated_at = excluded.updated_at`);
  return {
    enqueue(status, now) {
      const body = JSON.stringify(status);
      return rows.enqueue(
        { key: status.deploymentId, fingerprint: statusFingerprint(status), body, extras: { revision: status.revision, state: status.state } },
        now,
        () => void latest.run(status.deploymentId, status.state, body, now.toISOString()),
      );
    },
    peek(limit = FLEET_AGENT_LIMITS.OUTBOX_DRAIN_BATCH) {
      return rows.peek(limit).map((r) => ({
        seq: r.seq, deploymentId: r.key, createdAt: r.createdAt,
        status: readStatus({ seq: r.seq, deployment_id: r.key, revision: r.extras.revision ?? '', state: r.extras.state ?? '', created_at: r.createdAt, status: r.body }),
      }));
    },
    ack: (seq) => rows.ack(seq),
    length: () => rows.length(),
    coalesced: () => rows.coalesced(),
  };
}
