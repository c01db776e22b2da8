// PostgreSQL implementation of Store (issue 17, decision 1020): the same tables and migrations as
// SQLite (dialect.ts), for several server replicas on one database. Concurrency between replicas:
// READ COMMITTED transactions; read-modify-write paths lock their row (SELECT … FOR UPDATE); the
// token use is spent by one conditional UPDATE (PostgreSQL re-checks its WHERE on the locked row,
// so concurrent enrolments cannot overspend it); the audit chain is appended under an advisory
// lock and re-chained after the stored head when another replica wrote first (pg-identity.ts).
// Users, providers, bindings and audit live in pg-identity.ts, as for SQLite.
import { PgReplicas } from './pg-replicas.ts';
import { PgUpgrades } from './pg-upgrades.ts';
import { PgDb, type Sql } from './pg-db.ts';
import { PgIdentity } from './pg-identity.ts';
import { agentFrom, clusterFrom, deletedAgentFrom, mergeRoleFacts, nodeFrom, parseFacts, projectFrom, tokenFrom } from './sqlite-store.ts';
import type {
  AgentLiveness,
  AgentRecord,
  AuditRecord,
  ClusterDeletion,
  ClusterRecord,
  ClusterRole,
  ConnectionEventRecord,
  CredentialUpdate,
  DeletedAgentRecord,
  Enrolment,
  EnrolOutcome,
  ExternalUserRecord,
  Facts,
  GroupBinding,
  KubeFacts,
  Labels,
  NodeRecord,
  ProjectBinding,
  ProjectRecord,
  ProjectRole,
  ProviderRecord,
  Role,
  RoleBinding,
  Store,
  TokenRecord,
  UserRecord,
  UserTokenRecord,
} from './store.ts';

export class PgStore implements Store {
  readonly #db: PgDb;
  readonly #id: PgIdentity;
  /** The HA tables (issue 17). */
  readonly replicas: PgReplicas;
  readonly upgrades: PgUpgrades;

  private constructor(db: PgDb) {
    this.#db = db;
    this.#id = new PgIdentity(db);
    this.replicas = new PgReplicas(db);
    this.upgrades = new PgUpgrades(db);
  }

  /** Connects and applies pending migrations; rejects when the database cannot be reached. */
  static async open(url: string, opts: { max?: number } = {}): Promise<PgStore> {
    const db = new PgDb(url, opts);
    try {
      await db.migrate();
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
    return new PgStore(db);
  }

  /** The pool, for the other PostgreSQL stores sharing it (fleet, plans, secrets) and for migrate. */
  get db(): PgDb {
    return this.#db;
  }

  // --- identity (pg-identity.ts) ---
  createProvider(p: ProviderRecord): Promise<boolean> {
    return this.#id.createProvider(p);
  }
  getProvider(name: string): Promise<ProviderRecord | undefined> {
    return this.#id.getProvider(name);
  }
  listProviders(): Promise<ProviderRecord[]> {
    return this.#id.listProviders();
  }
  deleteProvider(name: string): Promise<{ deleted: boolean; users: string[] }> {
    return this.#id.deleteProvider(name);
  }
  saveExternalUser(u: ExternalUserRecord, createdAt: number): Promise<void> {
    return this.#id.saveExternalUser(u, createdAt);
  }
  getExternalUser(userName: string): Promise<ExternalUserRecord | undefined> {
    return this.#id.getExternalUser(userName);
  }
  bindGroup(b: GroupBinding): Promise<boolean> {
    return this.#id.bindGroup(b);
  }
  unbindGroup(group: string, clusterId: string, role: ClusterRole): Promise<boolean> {
    return this.#id.unbindGroup(group, clusterId, role);
  }
  listGroupBindings(filter?: { clusterId?: string }): Promise<GroupBinding[]> {
    return this.#id.listGroupBindings(filter);
  }
  createUser(u: UserRecord): Promise<boolean> {
    return this.#id.createUser(u);
  }
  getUser(name: string): Promise<UserRecord | undefined> {
    return this.#id.getUser(name);
  }
  listUsers(): Promise<UserRecord[]> {
    return this.#id.listUsers();
  }
  deleteUser(name: string): Promise<boolean> {
    return this.#id.deleteUser(name);
  }
  setPassword(name: string, hash: string): Promise<boolean> {
    return this.#id.setPassword(name, hash);
  }
  createUserToken(t: UserTokenRecord): Promise<void> {
    return this.#id.createUserToken(t);
  }
  getUserToken(id: string): Promise<UserTokenRecord | undefined> {
    return this.#id.getUserToken(id);
  }
  listUserTokens(userName?: string): Promise<UserTokenRecord[]> {
    return this.#id.listUserTokens(userName);
  }
  revokeUserToken(id: string, now: number): Promise<boolean> {
    return this.#id.revokeUserToken(id, now);
  }
  bindRole(b: RoleBinding): Promise<boolean> {
    return this.#id.bindRole(b);
  }
  unbindRole(userName: string, clusterId: string, role: ClusterRole): Promise<boolean> {
    return this.#id.unbindRole(userName, clusterId, role);
  }
  listBindings(filter?: { clusterId?: string; userName?: string }): Promise<RoleBinding[]> {
    return this.#id.listBindings(filter);
  }
  async authzGeneration(): Promise<number> {
    // No row until the first authorisation write (migration 'authorisation generation').
    return Number((await this.#db.one('SELECT gen FROM authz_generation WHERE id = 1'))?.gen ?? 1);
  }
  appendAudit(rows: readonly AuditRecord[]): Promise<AuditRecord[]> {
    return this.#id.appendAudit(rows);
  }
  lastAudit(): Promise<AuditRecord | undefined> {
    return this.#id.lastAudit();
  }
  listAudit(filter?: { afterSeq?: number; limit?: number }): Promise<AuditRecord[]> {
    return this.#id.listAudit(filter);
  }
  setKubeFacts(clusterId: string, facts: KubeFacts): Promise<void> {
    return this.#id.setKubeFacts(clusterId, facts);
  }
  getKubeFacts(clusterId: string): Promise<KubeFacts | undefined> {
    return this.#id.getKubeFacts(clusterId);
  }

  // --- join tokens, clusters, nodes, agents ---
  async createToken(t: TokenRecord): Promise<void> {
    await this.#db.run(
      `INSERT INTO tokens (id, secret_hash, created_at, expires_at, uses_max, uses, cluster_id, labels, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [t.id, t.secretHash, t.createdAt, t.expiresAt, t.usesMax, t.uses, t.clusterId, JSON.stringify(t.labels), t.revokedAt],
    );
  }

  async getToken(id: string): Promise<TokenRecord | undefined> {
    const r = await this.#db.one('SELECT * FROM tokens WHERE id = ?', [id]);
    return r ? tokenFrom(r) : undefined;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.#db.rows('SELECT * FROM tokens ORDER BY created_at, id')).map(tokenFrom);
  }

  async revokeToken(id: string, now: number): Promise<boolean> {
    return (await this.#db.run('UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?', [now, id])) > 0;
  }

  async enrol(e: Enrolment): Promise<EnrolOutcome> {
    try {
      return await this.#db.tx(async (sql): Promise<EnrolOutcome> => {
        const spent = await sql.run(
          `UPDATE tokens SET uses = uses + 1 WHERE id = ? AND revoked_at IS NULL
             AND (expires_at IS NULL OR expires_at > ?) AND (uses_max = 0 OR uses < uses_max)`,
          [e.tokenId, e.now],
        );
        if (spent === 0) {
          const r = await sql.one('SELECT * FROM tokens WHERE id = ?', [e.tokenId]);
          if (!r) return { ok: false, reason: 'TOKEN_UNKNOWN' };
          const t = tokenFrom(r);
          if (t.revokedAt !== null) return { ok: false, reason: 'TOKEN_REVOKED' };
          if (t.expiresAt !== null && t.expiresAt <= e.now) return { ok: false, reason: 'TOKEN_EXPIRED' };
          return { ok: false, reason: 'TOKEN_USED_UP' };
        }
        if (e.newCluster) {
          const c = e.newCluster;
          await sql.run('INSERT INTO clusters (id, name, labels, created_at, kubernetes_version) VALUES (?, ?, ?, ?, ?)', [c.id, c.name, JSON.stringify(c.labels), c.createdAt, c.kubernetesVersion]);
        } else if (!(await sql.one('SELECT 1 FROM clusters WHERE id = ? FOR SHARE', [e.agent.clusterId]))) {
          throw new EnrolAbort();
        }
        const n = e.node;
        await sql.run('INSERT INTO nodes (id, cluster_id, name, created_at, facts, removed_at) VALUES (?, ?, ?, ?, ?, ?)', [n.id, n.clusterId, n.name, n.createdAt, JSON.stringify(n.facts), n.removedAt]);
        const a = e.agent;
        await sql.run(
          `INSERT INTO agents (id, cluster_id, node_id, hostname, roles, credential_hash, prev_credential_hash,
             credential_issued_at, credential_expires_at, created_at, revoked_at, removed_at, last_seen, facts)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [a.id, a.clusterId, a.nodeId, a.hostname, JSON.stringify(a.roles), a.credentialHash, a.prevCredentialHash, a.credentialIssuedAt, a.credentialExpiresAt, a.createdAt, a.revokedAt, a.removedAt, a.lastSeen, JSON.stringify(a.facts)],
        );
        return { ok: true };
      });
    } catch (err) {
      if (err instanceof EnrolAbort) return { ok: false, reason: 'CLUSTER_NOT_FOUND' };
      throw err;
    }
  }

  async getAgent(id: string): Promise<AgentRecord | undefined> {
    const r = await this.#db.one('SELECT * FROM agents WHERE id = ?', [id]);
    return r ? agentFrom(r) : undefined;
  }

  async listAgents(filter?: { clusterId?: string }): Promise<AgentRecord[]> {
    const rows = filter?.clusterId
      ? await this.#db.rows('SELECT * FROM agents WHERE cluster_id = ? ORDER BY created_at, id', [filter.clusterId])
      : await this.#db.rows('SELECT * FROM agents ORDER BY created_at, id');
    return rows.map(agentFrom);
  }

  async listAgentLiveness(): Promise<AgentLiveness[]> {
    const rows = await this.#db.rows('SELECT id, cluster_id, node_id, revoked_at, removed_at, last_seen FROM agents ORDER BY created_at, id');
    const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
    return rows.map((r) => ({ id: String(r.id), clusterId: String(r.cluster_id), nodeId: String(r.node_id), revokedAt: num(r.revoked_at), removedAt: num(r.removed_at), lastSeen: num(r.last_seen) }));
  }

  async setCredential(agentId: string, u: CredentialUpdate): Promise<void> {
    await this.#db.run(
      `UPDATE agents SET credential_hash = ?, prev_credential_hash = ?, credential_issued_at = ?,
         credential_expires_at = ? WHERE id = ?`,
      [u.hash, u.prevHash, u.issuedAt, u.expiresAt, agentId],
    );
  }

  async clearPrevCredential(agentId: string): Promise<void> {
    await this.#db.run('UPDATE agents SET prev_credential_hash = NULL WHERE id = ?', [agentId]);
  }

  async revokeAgent(agentId: string, now: number): Promise<boolean> {
    return (await this.#db.run('UPDATE agents SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?', [now, agentId])) > 0;
  }

  async removeAgent(agentId: string, now: number): Promise<boolean> {
    return this.#db.tx(async (sql) => {
      const a = await sql.one('SELECT node_id FROM agents WHERE id = ? FOR UPDATE', [agentId]);
      if (!a) return false;
      await sql.run('UPDATE agents SET removed_at = COALESCE(removed_at, ?) WHERE id = ?', [now, agentId]);
      await sql.run('UPDATE nodes SET removed_at = COALESCE(removed_at, ?) WHERE id = ?', [now, String(a.node_id)]);
      return true;
    });
  }

  async recordFacts(agentId: string, facts: Facts, now: number): Promise<void> {
    await this.#db.tx(async (sql) => {
      const a = await sql.one('SELECT cluster_id, node_id, facts FROM agents WHERE id = ? FOR UPDATE', [agentId]);
      if (!a) return;
      const merged = mergeRoleFacts(parseFacts(a.facts), facts);
      await sql.run('UPDATE agents SET facts = ?, last_seen = GREATEST(COALESCE(last_seen, 0), ?) WHERE id = ?', [JSON.stringify(merged), now, agentId]);
      await sql.run('UPDATE nodes SET facts = ? WHERE id = ?', [JSON.stringify(merged), String(a.node_id)]);
      if (typeof merged.kubernetesVersion === 'string') {
        await sql.run('UPDATE clusters SET kubernetes_version = ? WHERE id = ?', [merged.kubernetesVersion, String(a.cluster_id)]);
      }
    });
  }

  async touch(entries: ReadonlyArray<{ agentId: string; at: number }>): Promise<void> {
    if (entries.length === 0) return;
    // One statement for the batch; duplicates folded to their latest time, ids sorted so two
    // replicas' batches lock shared rows in the same order.
    const latest = new Map<string, number>();
    for (const e of entries) latest.set(e.agentId, Math.max(latest.get(e.agentId) ?? 0, e.at));
    const ids = [...latest.keys()].sort();
    await this.#db.run(
      `UPDATE agents SET last_seen = GREATEST(COALESCE(agents.last_seen, 0), v.at)
       FROM (SELECT unnest(?::text[]) AS id, unnest(?::bigint[]) AS at) v WHERE agents.id = v.id`,
      [ids, ids.map((id) => latest.get(id) ?? 0)],
    );
  }

  async getCluster(id: string): Promise<ClusterRecord | undefined> {
    const r = await this.#db.one('SELECT * FROM clusters WHERE id = ?', [id]);
    return r ? clusterFrom(r) : undefined;
  }

  async recordConnectionEvents(events: readonly ConnectionEventRecord[]): Promise<void> {
    if (events.length === 0) return;
    // One statement per batch (the connection history is flushed every few seconds).
    await this.#db.run(
      `INSERT INTO connection_events (cluster_id, agent_id, role, session_id, kind, at, reason, remote)
       SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[])`,
      [
        events.map((e) => e.clusterId), events.map((e) => e.agentId), events.map((e) => e.role), events.map((e) => e.sessionId),
        events.map((e) => e.kind), events.map((e) => e.at), events.map((e) => e.reason), events.map((e) => e.remote),
      ],
    );
  }

  async connectionEvents(clusterId: string, limit: number): Promise<ConnectionEventRecord[]> {
    const rows = await this.#db.rows('SELECT * FROM connection_events WHERE cluster_id = ? ORDER BY at DESC, id DESC LIMIT ?', [clusterId, limit]);
    return rows.map((r) => ({
      clusterId: String(r.cluster_id), agentId: String(r.agent_id), role: String(r.role) as Role, sessionId: String(r.session_id),
      kind: r.kind === 'connect' ? 'connect' : 'disconnect', at: Number(r.at), reason: String(r.reason), remote: r.remote === null ? null : String(r.remote),
    }));
  }

  async pruneConnectionEvents(before: number, perCluster: number, clusters: readonly string[]): Promise<number> {
    return this.#db.tx(async (sql) => {
      let n = await sql.run('DELETE FROM connection_events WHERE at < ?', [before]);
      for (const c of clusters) {
        n += await sql.run(
          `DELETE FROM connection_events WHERE cluster_id = ? AND id NOT IN (
             SELECT id FROM connection_events WHERE cluster_id = ? ORDER BY at DESC, id DESC LIMIT ?)`,
          [c, c, perCluster],
        );
      }
      return n;
    });
  }

  // No clustersVersion(): other replicas change clusters too, so callers re-derive every time.

  async listClusters(): Promise<ClusterRecord[]> {
    return (await this.#db.rows('SELECT * FROM clusters ORDER BY created_at, id')).map(clusterFrom);
  }

  async patchClusterLabels(id: string, patch: Record<string, string | null>): Promise<ClusterRecord | undefined> {
    return this.#db.tx(async (sql) => {
      const r = await sql.one('SELECT * FROM clusters WHERE id = ? FOR UPDATE', [id]);
      if (!r) return undefined;
      const labels: Labels = { ...clusterFrom(r).labels };
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete labels[k];
        else labels[k] = v;
      }
      await sql.run('UPDATE clusters SET labels = ? WHERE id = ?', [JSON.stringify(labels), id]);
      return { ...clusterFrom(r), labels };
    });
  }

  async deleteCluster(id: string, d: ClusterDeletion): Promise<{ agents: DeletedAgentRecord[] } | undefined> {
    return this.#db.tx(async (sql) => {
      const c = await sql.one('SELECT name FROM clusters WHERE id = ? FOR UPDATE', [id]);
      if (!c) return undefined;
      await sql.run(
        `INSERT INTO deleted_agents (agent_id, cluster_id, cluster_name, roles, credential_hash,
           prev_credential_hash, keep_workloads, uninstall, deleted_at, deleted_by, cleaned_roles)
         SELECT id, cluster_id, ?, roles, credential_hash, prev_credential_hash, ?, ?, ?, ?, '[]'
         FROM agents WHERE cluster_id = ? AND removed_at IS NULL AND revoked_at IS NULL
         ON CONFLICT (agent_id) DO UPDATE SET cluster_id = excluded.cluster_id, cluster_name = excluded.cluster_name,
           roles = excluded.roles, credential_hash = excluded.credential_hash, prev_credential_hash = excluded.prev_credential_hash,
           keep_workloads = excluded.keep_workloads, uninstall = excluded.uninstall, deleted_at = excluded.deleted_at,
           deleted_by = excluded.deleted_by, cleaned_roles = excluded.cleaned_roles`,
        [String(c.name), d.keepWorkloads ? 1 : 0, d.uninstallAgents ? 1 : 0, d.at, d.by, id],
      );
      await sql.run('DELETE FROM role_bindings WHERE cluster_id = ?', [id]);
      await sql.run('DELETE FROM group_bindings WHERE cluster_id = ?', [id]);
      await sql.run('DELETE FROM project_bindings WHERE project IN (SELECT name FROM projects WHERE cluster_id = ?)', [id]);
      await sql.run('DELETE FROM projects WHERE cluster_id = ?', [id]);
      await sql.run('DELETE FROM agents WHERE cluster_id = ?', [id]);
      await sql.run('DELETE FROM nodes WHERE cluster_id = ?', [id]);
      await sql.run('DELETE FROM tokens WHERE cluster_id = ?', [id]);
      await sql.run('DELETE FROM clusters WHERE id = ?', [id]);
      const rows = await sql.rows('SELECT * FROM deleted_agents WHERE cluster_id = ? ORDER BY agent_id', [id]);
      return { agents: rows.map(deletedAgentFrom) };
    });
  }

  async createProject(p: ProjectRecord): Promise<boolean> {
    const n = await this.#db.run('INSERT INTO projects (name, cluster_id, namespaces, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [p.name, p.clusterId, JSON.stringify(p.namespaces), p.createdAt]);
    return n > 0;
  }

  async getProject(name: string): Promise<ProjectRecord | undefined> {
    const r = await this.#db.one('SELECT * FROM projects WHERE name = ?', [name]);
    return r ? projectFrom(r) : undefined;
  }

  async listProjects(filter?: { clusterId?: string }): Promise<ProjectRecord[]> {
    const rows = filter?.clusterId ? await this.#db.rows('SELECT * FROM projects WHERE cluster_id = ? ORDER BY name', [filter.clusterId]) : await this.#db.rows('SELECT * FROM projects ORDER BY name');
    return rows.map(projectFrom);
  }

  async setProjectNamespaces(name: string, namespaces: readonly string[]): Promise<ProjectRecord | undefined> {
    await this.#db.run('UPDATE projects SET namespaces = ? WHERE name = ?', [JSON.stringify([...new Set(namespaces)].sort()), name]);
    return this.getProject(name);
  }

  async deleteProject(name: string): Promise<boolean> {
    return this.#db.tx(async (sql) => {
      await sql.run('DELETE FROM project_bindings WHERE project = ?', [name]);
      return (await sql.run('DELETE FROM projects WHERE name = ?', [name])) > 0;
    });
  }

  async bindProjectRole(b: ProjectBinding): Promise<boolean> {
    const n = await this.#db.run('INSERT INTO project_bindings (user_name, project, role, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [b.userName, b.project, b.role, b.createdAt]);
    return n > 0;
  }

  async unbindProjectRole(userName: string, project: string, role: ProjectRole): Promise<boolean> {
    return (await this.#db.run('DELETE FROM project_bindings WHERE user_name = ? AND project = ? AND role = ?', [userName, project, role])) > 0;
  }

  async listProjectBindings(filter: { project?: string; userName?: string; clusterId?: string } = {}): Promise<ProjectBinding[]> {
    const rows = await this.#db.rows(
      `SELECT b.* FROM project_bindings b JOIN projects p ON p.name = b.project
       WHERE (?::text IS NULL OR b.project = ?) AND (?::text IS NULL OR b.user_name = ?) AND (?::text IS NULL OR p.cluster_id = ?)
       ORDER BY b.project, b.user_name, b.role`,
      [filter.project ?? null, filter.project ?? null, filter.userName ?? null, filter.userName ?? null, filter.clusterId ?? null, filter.clusterId ?? null],
    );
    return rows.map((r) => ({ userName: String(r.user_name), project: String(r.project), role: String(r.role) as ProjectRole, createdAt: Number(r.created_at) }));
  }

  async getDeletedAgent(agentId: string): Promise<DeletedAgentRecord | undefined> {
    const r = await this.#db.one('SELECT * FROM deleted_agents WHERE agent_id = ?', [agentId]);
    return r ? deletedAgentFrom(r) : undefined;
  }

  async listDeletedAgents(filter?: { clusterId?: string }): Promise<DeletedAgentRecord[]> {
    const rows = filter?.clusterId
      ? await this.#db.rows('SELECT * FROM deleted_agents WHERE cluster_id = ? ORDER BY deleted_at, agent_id', [filter.clusterId])
      : await this.#db.rows('SELECT * FROM deleted_agents ORDER BY deleted_at, agent_id');
    return rows.map(deletedAgentFrom);
  }

  async markCleaned(agentId: string, roles: readonly Role[]): Promise<Role[] | undefined> {
    return this.#db.tx(async (sql: Sql) => {
      const r = await sql.one('SELECT * FROM deleted_agents WHERE agent_id = ? FOR UPDATE', [agentId]);
      if (!r) return undefined;
      const rec = deletedAgentFrom(r);
      const cleaned = [...new Set([...rec.cleanedRoles, ...roles.filter((x) => rec.roles.includes(x))])].sort();
      const left = rec.roles.filter((x) => !cleaned.includes(x));
      if (left.length === 0) await sql.run('DELETE FROM deleted_agents WHERE agent_id = ?', [agentId]);
      else await sql.run('UPDATE deleted_agents SET cleaned_roles = ? WHERE agent_id = ?', [JSON.stringify(cleaned), agentId]);
      return left;
    });
  }

  async listNodes(filter?: { clusterId?: string }): Promise<NodeRecord[]> {
    const rows = filter?.clusterId
      ? await this.#db.rows('SELECT * FROM nodes WHERE cluster_id = ? ORDER BY created_at, id', [filter.clusterId])
      : await this.#db.rows('SELECT * FROM nodes ORDER BY created_at, id');
    return rows.map(nodeFrom);
  }

  async ping(): Promise<void> {
    await this.#db.one('SELECT 1');
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}

class EnrolAbort extends Error {}
