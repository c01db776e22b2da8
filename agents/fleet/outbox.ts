// The status outbox: every status change of a deployment gets a sequence number that is never
// reused (AUTOINCREMENT), rows drain in sequence order and leave only when the server acknowledges
// a sequence, so the server can de-duplicate a status sent twice and never misses one.
// Bounded: past `maxRows`, the oldest statuses that a newer status of the same deployment has
// superseded are dropped (coalesced). The latest status of a deployment is never dropped, so at
// worst the outbox holds one row per deployment beyond the bound.
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { DeploymentState, DeploymentStatus } from './types.ts';
import { FLEET_AGENT_LIMITS } from './limits.ts';

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
  const maxRows = opts.maxRows ?? FLEET_AGENT_LIMITS.OUTBOX_MAX_ROWS;
  const lastFp = db.prepare('SELECT value FROM fleet_meta WHERE key = ?').pluck();
  const setMeta = db.prepare('INSERT INTO fleet_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  const insert = db.prepare('INSERT INTO fleet_outbox (deployment_id, revision, state, fingerprint, status, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  const count = db.prepare('SELECT COUNT(*) FROM fleet_outbox').pluck();
  // Superseded = a newer row of the same deployment exists; oldest first.
  const dropSuperseded = db.prepare(`DELETE FROM fleet_outbox WHERE seq IN (
      SELECT o.seq FROM fleet_outbox o
      WHERE EXISTS (SELECT 1 FROM fleet_outbox n WHERE n.deployment_id = o.deployment_id AND n.seq > o.seq)
      ORDER BY o.seq LIMIT ?)`);
  const select = db.prepare('SELECT seq, deployment_id, revision, state, created_at, status FROM fleet_outbox ORDER BY seq LIMIT ?');
  const remove = db.prepare('DELETE FROM fleet_outbox WHERE seq <= ?');
  const latest = db.prepare(`INSERT INTO fleet_status (deployment_id, state, status, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (deployment_id) DO UPDATE SET state = excluded.state, status = excluded.status, updated_at = excluded.updated_at`);

  const coalesced = (): number => Number(lastFp.get('outbox.coalesced') ?? 0);

  const enqueue = db.transaction((status: DeploymentStatus, now: Date): number | undefined => {
    const fp = statusFingerprint(status);
    const key = `outbox.last.${status.deploymentId}`;
    if (lastFp.get(key) === fp) return undefined;
    setMeta.run(key, fp);
    latest.run(status.deploymentId, status.state, JSON.stringify(status), now.toISOString());
    const info = insert.run(status.deploymentId, status.revision, status.state, fp, JSON.stringify(status), now.toISOString());
    const excess = (count.get() as number) - maxRows;
    if (excess > 0) {
      const dropped = dropSuperseded.run(excess).changes;
      if (dropped > 0) setMeta.run('outbox.coalesced', String(coalesced() + dropped));
    }
    return Number(info.lastInsertRowid);
  });

  return {
    enqueue: (status, now) => enqueue(status, now),
    peek(limit = FLEET_AGENT_LIMITS.OUTBOX_DRAIN_BATCH) {
      const rows = select.all(limit) as StoredRow[];
      return rows.map((r) => ({ seq: r.seq, deploymentId: r.deployment_id, createdAt: r.created_at, status: readStatus(r) }));
    },
    ack: (seq) => remove.run(seq).changes,
    length: () => count.get() as number,
    coalesced,
  };
}
