// SQLite statements for the HA tables (migration 7, issue 17; replica-store.ts says what they
// mean). The SQL is the portable subset PostgreSQL runs too (ON CONFLICT … DO UPDATE … WHERE).
import type Database from 'better-sqlite3';
import type { Role } from './store.ts';
import type { LeaseRecord, ReplicaRecord, ReplicaSessionRow, ReplicaStore, SessionRoute } from './replica-store.ts';

type Row = Record<string, unknown>;

/** The upsert that makes newest-wins hold across replicas: an older `since` never overwrites. */
export const UPSERT_SESSION_SQL = `
  INSERT INTO ha_sessions (agent_id, role, cluster_id, node_id, replica_id, session_id, since, epoch)
  VALUES (?, ?, ?, ?, ?, ?, ?, 1)
  ON CONFLICT (agent_id, role) DO UPDATE SET
    cluster_id = excluded.cluster_id, node_id = excluded.node_id, replica_id = excluded.replica_id,
    session_id = excluded.session_id, since = excluded.since, epoch = ha_sessions.epoch + 1
  WHERE excluded.since >= ha_sessions.since AND excluded.session_id <> ha_sessions.session_id`;

/** Takes a free, expired or own lease; the epoch moves only when the holder changes. */
export const ACQUIRE_LEASE_SQL = `
  INSERT INTO ha_leases (name, holder, expires_at, epoch) VALUES (?, ?, ?, 1)
  ON CONFLICT (name) DO UPDATE SET
    holder = excluded.holder, expires_at = excluded.expires_at,
    epoch = CASE WHEN ha_leases.holder = excluded.holder THEN ha_leases.epoch ELSE ha_leases.epoch + 1 END
  WHERE ha_leases.holder = excluded.holder OR ha_leases.expires_at < ?`;

/** A route with its replica's address, fresh replicas only (shared with pg-replicas.ts). */
export const ROUTE_SELECT = `
  SELECT s.*, r.address FROM ha_sessions s JOIN ha_replicas r ON r.id = s.replica_id
  WHERE r.heartbeat_at >= ?`;

export const routeFrom = (r: Row): SessionRoute => ({
  agentId: String(r.agent_id),
  role: String(r.role) as Role,
  clusterId: String(r.cluster_id),
  nodeId: String(r.node_id),
  replicaId: String(r.replica_id),
  sessionId: String(r.session_id),
  since: Number(r.since),
  epoch: Number(r.epoch),
  address: String(r.address),
});

export class SqliteReplicas implements ReplicaStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async heartbeatReplica(r: ReplicaRecord): Promise<void> {
    this.#db
      .prepare(`INSERT INTO ha_replicas (id, address, started_at, heartbeat_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET address = excluded.address, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`)
      .run(r.id, r.address, r.startedAt, r.heartbeatAt);
  }

  async listReplicas(): Promise<ReplicaRecord[]> {
    return (this.#db.prepare('SELECT * FROM ha_replicas ORDER BY id').all() as Row[]).map((r) => ({
      id: String(r.id), address: String(r.address), startedAt: Number(r.started_at), heartbeatAt: Number(r.heartbeat_at),
    }));
  }

  async expireReplicas(before: number): Promise<string[]> {
    return this.#db.transaction(() => {
      const ids = (this.#db.prepare('SELECT id FROM ha_replicas WHERE heartbeat_at < ?').all(before) as Row[]).map((r) => String(r.id));
      for (const id of ids) {
        this.#db.prepare('DELETE FROM ha_sessions WHERE replica_id = ?').run(id);
        this.#db.prepare('DELETE FROM ha_replicas WHERE id = ?').run(id);
      }
      return ids;
    })();
  }

  async removeReplica(id: string): Promise<void> {
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM ha_sessions WHERE replica_id = ?').run(id);
      this.#db.prepare('DELETE FROM ha_replicas WHERE id = ?').run(id);
    })();
  }

  async registerSessions(rows: readonly ReplicaSessionRow[]): Promise<ReplicaSessionRow[]> {
    if (rows.length === 0) return [];
    return this.#db.transaction(() => {
      const lost: ReplicaSessionRow[] = [];
      const upsert = this.#db.prepare(UPSERT_SESSION_SQL);
      const current = this.#db.prepare('SELECT session_id FROM ha_sessions WHERE agent_id = ? AND role = ?');
      for (const r of rows) {
        upsert.run(r.agentId, r.role, r.clusterId, r.nodeId, r.replicaId, r.sessionId, r.since);
        const now = current.get(r.agentId, r.role) as Row | undefined;
        if (now?.session_id !== r.sessionId) lost.push(r);
      }
      return lost;
    })();
  }

  async unregisterSessions(rows: ReadonlyArray<{ agentId: string; role: Role; sessionId: string }>): Promise<void> {
    if (rows.length === 0) return;
    this.#db.transaction(() => {
      const del = this.#db.prepare('DELETE FROM ha_sessions WHERE agent_id = ? AND role = ? AND session_id = ?');
      for (const r of rows) del.run(r.agentId, r.role, r.sessionId);
    })();
  }

  async sessionsOf(replicaId: string): Promise<Array<{ agentId: string; role: Role; sessionId: string }>> {
    return (this.#db.prepare('SELECT agent_id, role, session_id FROM ha_sessions WHERE replica_id = ?').all(replicaId) as Row[]).map((r) => ({
      agentId: String(r.agent_id), role: String(r.role) as Role, sessionId: String(r.session_id),
    }));
  }

  async routeCluster(clusterId: string, role: Role, freshAfter: number): Promise<SessionRoute | undefined> {
    const r = this.#db.prepare(`${ROUTE_SELECT} AND s.cluster_id = ? AND s.role = ? ORDER BY s.since DESC LIMIT 1`).get(freshAfter, clusterId, role) as Row | undefined;
    return r ? routeFrom(r) : undefined;
  }

  async routeAgent(agentId: string, role: Role, freshAfter: number): Promise<SessionRoute | undefined> {
    const r = this.#db.prepare(`${ROUTE_SELECT} AND s.agent_id = ? AND s.role = ?`).get(freshAfter, agentId, role) as Row | undefined;
    return r ? routeFrom(r) : undefined;
  }

  async routeNode(nodeId: string, role: Role, freshAfter: number): Promise<SessionRoute | undefined> {
    const r = this.#db.prepare(`${ROUTE_SELECT} AND s.node_id = ? AND s.role = ? ORDER BY s.since DESC LIMIT 1`).get(freshAfter, nodeId, role) as Row | undefined;
    return r ? routeFrom(r) : undefined;
  }

  async remoteAgents(exceptReplica: string, freshAfter: number): Promise<Array<{ agentId: string; replicaId: string; heartbeatAt: number }>> {
    const rows = this.#db
      .prepare('SELECT DISTINCT s.agent_id, s.replica_id, r.heartbeat_at FROM ha_sessions s JOIN ha_replicas r ON r.id = s.replica_id WHERE r.heartbeat_at >= ? AND s.replica_id <> ?')
      .all(freshAfter, exceptReplica) as Row[];
    return rows.map((r) => ({ agentId: String(r.agent_id), replicaId: String(r.replica_id), heartbeatAt: Number(r.heartbeat_at) }));
  }

  async remoteClusters(role: Role, exceptReplica: string, freshAfter: number): Promise<string[]> {
    const rows = this.#db
      .prepare('SELECT DISTINCT s.cluster_id FROM ha_sessions s JOIN ha_replicas r ON r.id = s.replica_id WHERE s.role = ? AND r.heartbeat_at >= ? AND s.replica_id <> ?')
      .all(role, freshAfter, exceptReplica) as Row[];
    return rows.map((r) => String(r.cluster_id));
  }

  async acquireLease(name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    return this.#db.prepare(ACQUIRE_LEASE_SQL).run(name, holder, now + ttlMs, now).changes > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.#db.prepare('UPDATE ha_leases SET expires_at = 0 WHERE name = ? AND holder = ?').run(name, holder);
  }

  async getLease(name: string): Promise<LeaseRecord | undefined> {
    const r = this.#db.prepare('SELECT * FROM ha_leases WHERE name = ?').get(name) as Row | undefined;
    return r ? { name: String(r.name), holder: String(r.holder), expiresAt: Number(r.expires_at), epoch: Number(r.epoch) } : undefined;
  }
}
