// Connection history per cluster (issue 20): every agent tunnel's connect and disconnect, with time
// and reason, kept in the store for the dashboard's cluster page. Events land in memory and are
// written in one batch per lastSeen flush (a reconnect storm of 10,000 agents is a few batches, not
// 20,000 transactions); old events are pruned on the same timer: older than the retention (by an
// index on time), or past the newest `perCluster` of a cluster that got events since the last
// prune (by the cluster's index; never a scan of the whole table). Events of a deleted cluster age
// out with the retention. The reasons are what the session's close said.
import type { SessionCloseInfo } from '../../protocol/index.ts';
import type { ConnectionEventRecord, Store } from '../store/store.ts';
import type { CloseReason, SessionInfo } from './session-registry.ts';

export const CONNECTION_HISTORY = Object.freeze({
  /** Events older than this are dropped. */
  retentionMs: 30 * 24 * 3600_000,
  /** At most this many events per cluster are kept (the newest). */
  perCluster: 200,
  /** Pruning runs at most this often. */
  pruneEveryMs: 10 * 60_000,
  /** Events waiting for a write when the store is failing: the oldest are dropped past this. */
  maxPending: 50_000,
});

/** Why the server ended a session, in words (session-registry.ts CloseReason). */
const SERVER_REASONS: Record<CloseReason, string> = {
  superseded: 'superseded by a newer connection of the same agent',
  revoked: 'credential revoked or agent unregistered',
  deleted: 'cluster deleted',
  shutdown: 'server shutting down',
};

/** The reason recorded for a connect. */
export function connectReason(info: SessionInfo, replaced: string | undefined): string {
  return `${info.role} agent connected (${info.protocol})${replaced ? `; replaced session ${replaced}` : ''}`;
}

/** The reason recorded for a disconnect: the server's own reason when it ended the session, else the close. */
export function disconnectReason(close: SessionCloseInfo, byServer: CloseReason | undefined): string {
  if (byServer) return SERVER_REASONS[byServer];
  const who = close.remote ? 'agent closed the tunnel' : 'server closed the tunnel';
  return `${who}: ${close.code}${close.message ? ` (${close.message.slice(0, 200)})` : ''}`;
}

export class ConnectionLog {
  #pending: ConnectionEventRecord[] = [];
  #lastPrune = 0;
  /** Clusters written since the last prune: only they can be over the per-cluster cap. */
  #touched = new Set<string>();
  /** Events dropped because the store could not take them (metrics, tests). */
  dropped = 0;

  record(e: ConnectionEventRecord): void {
    this.#pending.push(e);
    if (this.#pending.length > CONNECTION_HISTORY.maxPending) {
      const over = this.#pending.length - CONNECTION_HISTORY.maxPending;
      this.#pending.splice(0, over);
      this.dropped += over;
    }
  }

  /** Writes what is pending in one batch and, at most every pruneEveryMs, prunes. A store without
   *  connection history (optional in the Store interface) keeps nothing. */
  async flush(store: Store, now: number): Promise<number> {
    if (!store.recordConnectionEvents) {
      this.#pending = [];
      return 0;
    }
    const batch = this.#pending;
    this.#pending = [];
    try {
      if (batch.length > 0) await store.recordConnectionEvents(batch);
      for (const e of batch) this.#touched.add(e.clusterId);
    } catch (err) {
      this.#pending = batch.concat(this.#pending).slice(-CONNECTION_HISTORY.maxPending);
      throw err;
    }
    if (store.pruneConnectionEvents && now - this.#lastPrune >= CONNECTION_HISTORY.pruneEveryMs) {
      this.#lastPrune = now;
      const touched = [...this.#touched];
      this.#touched = new Set();
      await store.pruneConnectionEvents(now - CONNECTION_HISTORY.retentionMs, CONNECTION_HISTORY.perCluster, touched);
    }
    return batch.length;
  }
}
