// PostgreSQL statements for the HA tables (migration 7, issue 17): the same SQL as SQLite's
// (sqlite-replicas.ts exports the two upserts that carry newest-wins and the lease rule), run on
// the store's pool. PostgreSQL's ON CONFLICT takes the row lock, so two replicas registering the
// same agent at once serialise and the later `since` wins whichever commits first.
import type { Role } from './store.ts';
import type { PgDb, Row } from './pg-db.ts';
import type { LeaseRecord, ReplicaRecord, ReplicaSessionRow, ReplicaStore, SessionRoute } from './replica-store.ts';
import { ACQUIRE_LEASE_SQL, ROUTE_SELECT, routeFrom, UPSERT_SESSION_SQL } from './sqlite-replicas.ts';

export class PgReplicas implements ReplicaStore {
  readonly #db: PgDb;

  constructor(db: PgDb) {
    this.#db = db;
  }

  async heartbeatReplica(r: ReplicaRecord): Promise<void> {
    await this.#db.run(
      `INSERT INTO ha_replicas (id, address, started_at, heartbeat_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET address = excluded.address, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
      [r.id, r.address, r.startedAt, r.heartbeatAt],
    );
  }

  async listReplicas(): Promise<ReplicaRecord[]> {
    return (await this.#db.rows('SELECT * FROM ha_replicas ORDER BY id')).map((r) => ({
      id: String(r.id), address: String(r.address), startedAt: Number(r.started_at), heartbeatAt: Number(r.heartbeat_at),
    }));
  }

  async expireReplicas(before: number): Promise<string[]> {
    return this.#db.tx(async (sql) => {
      const ids = (await sql.rows('SELECT id FROM ha_replicas WHERE heartbeat_at < ?', [before])).map((r) => String(r.id));
      if (ids.length === 0) return ids;
      await sql.run('DELETE FROM ha_sessions WHERE replica_id = ANY(?)', [ids]);
      await sql.run('DELETE FROM ha_replicas WHERE id = ANY(?)', [ids]);
      return ids;
    });
  }

  async removeReplica(id: string): Promise<void> {
    await this.#db.tx(async (sql) => {
      await sql.run('DELETE FROM ha_sessions WHERE replica_id = ?', [id]);
      await sql.run('DELETE FROM ha_replicas WHERE id = ?', [id]);
    });
  }

  async registerSessions(rows: readonly ReplicaSessionRow[]): Promise<ReplicaSessionRow[]> {
    if (rows.length === 0) return [];
    return this.#db.tx(async (sql) => {
      const lost: ReplicaSessionRow[] = [];
      for (const r of rows) {
        await sql.run(UPSERT_SESSION_SQL, [r.agentId, r.role, r.clusterId, r.nodeId, r.replicaId, r.sessionId, r.since]);
        const now = await sql.one('SELECT session_id FROM ha_sessions WHERE agent_id = ? AND role = ?', [r.agentId, r.role]);
        if (now?.session_id !== r.sessionId) lost.push(r);
      }
      return lost;
    });
  }

  async unregisterSessions(rows: ReadonlyArray<{ agentId: string; role: Role; sessionId: string }>): Promise<void> {
    if (rows.length === 0) return;
    await this.#db.tx(async (sql) => {
      for (const r of rows) await sql.run('DELETE FROM ha_sessions WHERE agent_id = ? AND role = ? AND session_id = ?', [r.agentId, r.role, r.sessionId]);
    });
  }

  async sessionsOf(replicaId: string): Promise<Array<{ agentId: string; role: Role; sessionId: string }>> {
    return (await this.#db.rows('SELECT agent_id, role, session_id FROM ha_sessions WHERE replica_id = ?', [replicaId])).map((r) => ({
      agentId: String(r.agent_id), role: String(r.role) as Role, sessionId: String(r.session_id),
    }));
  }

  async routeCluster(clusterId: string, role: Role, freshAfter: number): Promise<SessionRoute | undefined> {
    const r = await this.#db.one(`${ROUTE_SELECT} AND s.cluster_id = ? AND s.role = ? ORDER BY s.since DESC LIMIT 1`, [freshAfter, clusterId, role]);
    return r ? routeFrom(r) : undefined;
  }

  async routeAgent(agentId: string, role: Role, freshAfter: number): Promise<SessionRoute | undefined> {
    const r = await this.#db.one(`${ROUTE_SELECT} AND s.agent_id = ? AND s.role = ?`, [freshAfter, agentId, role]);
    return r ? routeFrom(r) : undefined;
  }

  async routeNode(nodeId: string, role: Role, freshAfter: number): Promise<SessionRoute | undefined> {
    const r = await this.#db.one(`${ROUTE_SELECT} AND s.node_id = ? AND s.role = ? ORDER BY s.since DESC LIMIT 1`, [freshAfter, nodeId, role]);
    return r ? routeFrom(r) : undefined;
  }

  async remoteAgents(exceptReplica: string, freshAfter: number): Promise<Array<{ agentId: string; replicaId: string; heartbeatAt: number }>> {
    const rows = await this.#db.rows(
      'SELECT DISTINCT s.agent_id, s.replica_id, r.heartbeat_at FROM ha_sessions s JOIN ha_replicas r ON r.id = s.replica_id WHERE r.heartbeat_at >= ? AND s.replica_id <> ?',
      [freshAfter, exceptReplica],
    );
    return rows.map((r) => ({ agentId: String(r.agent_id), replicaId: String(r.replica_id), heartbeatAt: Number(r.heartbeat_at) }));
  }

  async remoteClusters(role: Role, exceptReplica: string, freshAfter: number): Promise<string[]> {
    const rows = await this.#db.rows(
      'SELECT DISTINCT s.cluster_id FROM ha_sessions s JOIN ha_replicas r ON r.id = s.replica_id WHERE s.role = ? AND r.heartbeat_at >= ? AND s.replica_id <> ?',
      [role, freshAfter, exceptReplica],
    );
    return rows.map((r) => String(r.cluster_id));
  }

  async acquireLease(name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    return (await this.#db.run(ACQUIRE_LEASE_SQL, [name, holder, now + ttlMs, now])) > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.#db.run('UPDATE ha_leases SET expires_at = 0 WHERE name = ? AND holder = ?', [name, holder]);
  }

  async getLease(name: string): Promise<LeaseRecord | undefined> {
    const r = await this.#db.one('SELECT * FROM ha_leases WHERE name = ?', [name]);
    return r ? { name: String(r.name), holder: String(r.holder), expiresAt: Number(r.expires_at), epoch: Number(r.epoch) } : undefined;
  }
}
