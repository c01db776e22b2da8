// SQLite implementation of Store (better-sqlite3, WAL). Calls are synchronous underneath and
// wrapped in promises so callers are ready for PostgreSQL. synchronous=FULL: registrations and
// credential rotations are relied on by agents the moment we answer, so they must survive power loss.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { preparePrivateDatabase } from './private-file.ts';
import { dirname } from 'node:path';
import { MIGRATIONS } from './migrations.ts';
import { cacheStatements } from './statement-cache.ts';
import { SqliteIdentity } from './sqlite-identity.ts';
import { SqliteProviders } from './sqlite-providers.ts';
import { SqliteUpgrades } from './sqlite-upgrades.ts';
import { SqliteReplicas } from './sqlite-replicas.ts';
import { GroupCommit } from '../fleet/group-commit.ts';

/**
 * Facts arrive once per tunnel connect: after a server restart, 10k of them within seconds. Those
 * submitted within this window share one transaction (one fsync) instead of one each.
 */
const FACTS_GROUP_COMMIT_MS = 20;
import type {
  ExternalUserRecord,
  GroupBinding,
  ProviderRecord,
  AuditRecord,
  ClusterRole,
  KubeFacts,
  RoleBinding,
  UserRecord,
  UserTokenRecord,
  AgentLiveness,
  AgentRecord,
  ClusterRecord,
  ClusterDeletion,
  ConnectionEventRecord,
  DeletedAgentRecord,
  ProjectBinding,
  ProjectRecord,
  ProjectRole,
  CredentialUpdate,
  Enrolment,
  EnrolOutcome,
  Facts,
  Labels,
  NodeRecord,
  Role,
  Store,
  TokenRecord,
} from './store.ts';

type Row = Record<string, unknown>;

const str = (v: unknown): string => String(v);
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const json = <T>(v: unknown): T => JSON.parse(String(v)) as T;

export function tokenFrom(r: Row): TokenRecord {
  return {
    id: str(r.id),
    secretHash: str(r.secret_hash),
    createdAt: num(r.created_at),
    expiresAt: numOrNull(r.expires_at),
    usesMax: num(r.uses_max),
    uses: num(r.uses),
    clusterId: strOrNull(r.cluster_id),
    labels: json<Labels>(r.labels),
    revokedAt: numOrNull(r.revoked_at),
  };
}

export function clusterFrom(r: Row): ClusterRecord {
  return {
    id: str(r.id),
    name: str(r.name),
    labels: json<Labels>(r.labels),
    createdAt: num(r.created_at),
    kubernetesVersion: strOrNull(r.kubernetes_version),
  };
}

export function nodeFrom(r: Row): NodeRecord {
  return {
    id: str(r.id),
    clusterId: str(r.cluster_id),
    name: str(r.name),
    createdAt: num(r.created_at),
    facts: json<Facts>(r.facts),
    removedAt: numOrNull(r.removed_at),
  };
}

export function agentFrom(r: Row): AgentRecord {
  return {
    id: str(r.id),
    clusterId: str(r.cluster_id),
    nodeId: str(r.node_id),
    hostname: str(r.hostname),
    roles: json<Role[]>(r.roles),
    credentialHash: str(r.credential_hash),
    prevCredentialHash: strOrNull(r.prev_credential_hash),
    credentialIssuedAt: num(r.credential_issued_at),
    credentialExpiresAt: num(r.credential_expires_at),
    createdAt: num(r.created_at),
    revokedAt: numOrNull(r.revoked_at),
    removedAt: numOrNull(r.removed_at),
    lastSeen: numOrNull(r.last_seen),
    facts: json<Facts>(r.facts),
  };
}

export function projectFrom(r: Row): ProjectRecord {
  return { name: str(r.name), clusterId: str(r.cluster_id), namespaces: json<string[]>(r.namespaces), createdAt: num(r.created_at) };
}

export function deletedAgentFrom(r: Row): DeletedAgentRecord {
  return {
    agentId: str(r.agent_id),
    clusterId: str(r.cluster_id),
    clusterName: str(r.cluster_name),
    roles: json<Role[]>(r.roles),
    credentialHash: str(r.credential_hash),
    prevCredentialHash: strOrNull(r.prev_credential_hash),
    keepWorkloads: num(r.keep_workloads) === 1,
    uninstallAgents: num(r.uninstall) === 1,
    at: num(r.deleted_at),
    by: str(r.deleted_by),
    cleanedRoles: json<Role[]>(r.cleaned_roles),
  };
}

export function migrate(db: Database.Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as Row | undefined;
  const current = numOrNull(row?.v) ?? 0;
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      // A PostgreSQL-only migration (tables SQLite keeps in a file of their own) is only recorded here.
      if (m.only !== 'postgres') db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, Date.now());
    })();
  }
  return MIGRATIONS.at(-1)?.version ?? 0;
}

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #id: SqliteIdentity;
  readonly #providers: SqliteProviders;
  /** Releases and agent upgrade rollouts (issue 16). */
  readonly upgrades: SqliteUpgrades;
  readonly replicas: SqliteReplicas;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Holds credential and token hashes: readable by the server's user only.
    preparePrivateDatabase(path);
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    migrate(this.#db);
    cacheStatements(this.#db);
    this.#id = new SqliteIdentity(this.#db);
    this.#providers = new SqliteProviders(this.#db);
    this.upgrades = new SqliteUpgrades(this.#db);
    this.replicas = new SqliteReplicas(this.#db);
    this.#facts = new GroupCommit(this.#db, FACTS_GROUP_COMMIT_MS, (e: { agentId: string; facts: Facts; now: number }) => this.#writeFacts(e.agentId, e.facts, e.now));
  }

  readonly #facts: GroupCommit<{ agentId: string; facts: Facts; now: number }, void>;

  async createProvider(p: ProviderRecord): Promise<boolean> {
    return this.#providers.createProvider(p);
  }

  async getProvider(name: string): Promise<ProviderRecord | undefined> {
    return this.#providers.getProvider(name);
  }

  async listProviders(): Promise<ProviderRecord[]> {
    return this.#providers.listProviders();
  }

  async deleteProvider(name: string): Promise<{ deleted: boolean; users: string[] }> {
    return this.#providers.deleteProvider(name);
  }

  async saveExternalUser(u: ExternalUserRecord, createdAt: number): Promise<void> {
    this.#providers.saveExternalUser(u, createdAt);
  }

  async getExternalUser(userName: string): Promise<ExternalUserRecord | undefined> {
    return this.#providers.getExternalUser(userName);
  }

  async bindGroup(b: GroupBinding): Promise<boolean> {
    return this.#providers.bindGroup(b);
  }

  async unbindGroup(group: string, clusterId: string, role: ClusterRole): Promise<boolean> {
    return this.#providers.unbindGroup(group, clusterId, role);
  }

  async listGroupBindings(filter?: { clusterId?: string }): Promise<GroupBinding[]> {
    return this.#providers.listGroupBindings(filter);
  }

  async createUser(u: UserRecord): Promise<boolean> {
    return this.#id.createUser(u);
  }
  async getUser(name: string): Promise<UserRecord | undefined> {
    return this.#id.getUser(name);
  }
  async listUsers(): Promise<UserRecord[]> {
    return this.#id.listUsers();
  }
  async deleteUser(name: string): Promise<boolean> {
    return this.#id.deleteUser(name);
  }
  async setPassword(name: string, hash: string): Promise<boolean> {
    return this.#id.setPassword(name, hash);
  }
  async createUserToken(t: UserTokenRecord): Promise<void> {
    this.#id.createUserToken(t);
  }
  async getUserToken(id: string): Promise<UserTokenRecord | undefined> {
    return this.#id.getUserToken(id);
  }
  async listUserTokens(userName?: string): Promise<UserTokenRecord[]> {
    return this.#id.listUserTokens(userName);
  }
  async revokeUserToken(id: string, now: number): Promise<boolean> {
    return this.#id.revokeUserToken(id, now);
  }
  async bindRole(b: RoleBinding): Promise<boolean> {
    return this.#id.bindRole(b);
  }
  async unbindRole(userName: string, clusterId: string, role: ClusterRole): Promise<boolean> {
    return this.#id.unbindRole(userName, clusterId, role);
  }
  async listBindings(filter?: { clusterId?: string; userName?: string }): Promise<RoleBinding[]> {
    return this.#id.listBindings(filter);
  }
  async authzGeneration(): Promise<number> {
    return Number((this.#db.prepare('SELECT gen FROM authz_generation WHERE id = 1').get() as Row | undefined)?.gen ?? 0);
  }
  async appendAudit(rows: readonly AuditRecord[]): Promise<readonly AuditRecord[]> {
    this.#id.appendAudit(rows);
    return rows;
  }
  async lastAudit(): Promise<AuditRecord | undefined> {
    return this.#id.lastAudit();
  }
  async listAudit(filter?: { afterSeq?: number; limit?: number }): Promise<AuditRecord[]> {
    return this.#id.listAudit(filter);
  }
  async setKubeFacts(clusterId: string, facts: KubeFacts): Promise<void> {
    this.#id.setKubeFacts(clusterId, facts);
  }
  async getKubeFacts(clusterId: string): Promise<KubeFacts | undefined> {
    return this.#id.getKubeFacts(clusterId);
  }

  async createToken(t: TokenRecord): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO tokens (id, secret_hash, created_at, expires_at, uses_max, uses, cluster_id, labels, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(t.id, t.secretHash, t.createdAt, t.expiresAt, t.usesMax, t.uses, t.clusterId, JSON.stringify(t.labels), t.revokedAt);
  }

  async getToken(id: string): Promise<TokenRecord | undefined> {
    const r = this.#db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as Row | undefined;
    return r ? tokenFrom(r) : undefined;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (this.#db.prepare('SELECT * FROM tokens ORDER BY created_at, id').all() as Row[]).map(tokenFrom);
  }

  async revokeToken(id: string, now: number): Promise<boolean> {
    const r = this.#db.prepare('UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(now, id);
    return r.changes > 0;
  }

  async enrol(e: Enrolment): Promise<EnrolOutcome> {
    const db = this.#db;
    // One transaction: the use is spent only if cluster, node and agent are all written, and is
    // committed (synchronous=FULL) before the agent receives its credential.
    const run = db.transaction((): EnrolOutcome => {
      const spent = db
        .prepare(
          `UPDATE tokens SET uses = uses + 1 WHERE id = ? AND revoked_at IS NULL
             AND (expires_at IS NULL OR expires_at > ?) AND (uses_max = 0 OR uses < uses_max)`,
        )
        .run(e.tokenId, e.now);
      if (spent.changes === 0) {
        const r = db.prepare('SELECT * FROM tokens WHERE id = ?').get(e.tokenId) as Row | undefined;
        if (!r) return { ok: false, reason: 'TOKEN_UNKNOWN' };
        const t = tokenFrom(r);
        if (t.revokedAt !== null) return { ok: false, reason: 'TOKEN_REVOKED' };
        if (t.expiresAt !== null && t.expiresAt <= e.now) return { ok: false, reason: 'TOKEN_EXPIRED' };
        return { ok: false, reason: 'TOKEN_USED_UP' };
      }
      if (e.newCluster) {
        const c = e.newCluster;
        this.#clustersVersion++;
        db.prepare('INSERT INTO clusters (id, name, labels, created_at, kubernetes_version) VALUES (?, ?, ?, ?, ?)').run(
          c.id,
          c.name,
          JSON.stringify(c.labels),
          c.createdAt,
          c.kubernetesVersion,
        );
      } else if (!db.prepare('SELECT 1 FROM clusters WHERE id = ?').get(e.agent.clusterId)) {
        throw new EnrolAbort('CLUSTER_NOT_FOUND');
      }
      const n = e.node;
      db.prepare('INSERT INTO nodes (id, cluster_id, name, created_at, facts, removed_at) VALUES (?, ?, ?, ?, ?, ?)').run(
        n.id,
        n.clusterId,
        n.name,
        n.createdAt,
        JSON.stringify(n.facts),
        n.removedAt,
      );
      const a = e.agent;
      db.prepare(
        `INSERT INTO agents (id, cluster_id, node_id, hostname, roles, credential_hash, prev_credential_hash,
           credential_issued_at, credential_expires_at, created_at, revoked_at, removed_at, last_seen, facts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        a.id,
        a.clusterId,
        a.nodeId,
        a.hostname,
        JSON.stringify(a.roles),
        a.credentialHash,
        a.prevCredentialHash,
        a.credentialIssuedAt,
        a.credentialExpiresAt,
        a.createdAt,
        a.revokedAt,
        a.removedAt,
        a.lastSeen,
        JSON.stringify(a.facts),
      );
      return { ok: true };
    });
    try {
      return run.immediate();
    } catch (err) {
      if (err instanceof EnrolAbort) return { ok: false, reason: err.reason };
      throw err;
    }
  }

  async getAgent(id: string): Promise<AgentRecord | undefined> {
    const r = this.#db.prepare('SELECT * FROM agents WHERE id = ?').get(id) as Row | undefined;
    return r ? agentFrom(r) : undefined;
  }

  async listAgents(filter?: { clusterId?: string }): Promise<AgentRecord[]> {
    const rows = filter?.clusterId
      ? this.#db.prepare('SELECT * FROM agents WHERE cluster_id = ? ORDER BY created_at, id').all(filter.clusterId)
      : this.#db.prepare('SELECT * FROM agents ORDER BY created_at, id').all();
    return (rows as Row[]).map(agentFrom);
  }

  async listAgentLiveness(): Promise<AgentLiveness[]> {
    const rows = this.#db.prepare('SELECT id, cluster_id, node_id, revoked_at, removed_at, last_seen FROM agents ORDER BY created_at, id').raw().all() as unknown[][];
    return rows.map((r) => ({ id: str(r[0]), clusterId: str(r[1]), nodeId: str(r[2]), revokedAt: numOrNull(r[3]), removedAt: numOrNull(r[4]), lastSeen: numOrNull(r[5]) }));
  }

  async setCredential(agentId: string, u: CredentialUpdate): Promise<void> {
    // Committed before the new credential is returned: the agent relies on it from then on.
    this.#db
      .prepare(
        `UPDATE agents SET credential_hash = ?, prev_credential_hash = ?, credential_issued_at = ?,
           credential_expires_at = ? WHERE id = ?`,
      )
      .run(u.hash, u.prevHash, u.issuedAt, u.expiresAt, agentId);
  }

  async clearPrevCredential(agentId: string): Promise<void> {
    this.#db.prepare('UPDATE agents SET prev_credential_hash = NULL WHERE id = ?').run(agentId);
  }

  async revokeAgent(agentId: string, now: number): Promise<boolean> {
    const r = this.#db.prepare('UPDATE agents SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(now, agentId);
    return r.changes > 0;
  }

  async removeAgent(agentId: string, now: number): Promise<boolean> {
    const db = this.#db;
    return db.transaction(() => {
      const a = db.prepare('SELECT node_id FROM agents WHERE id = ?').get(agentId) as Row | undefined;
      if (!a) return false;
      db.prepare('UPDATE agents SET removed_at = COALESCE(removed_at, ?) WHERE id = ?').run(now, agentId);
      db.prepare('UPDATE nodes SET removed_at = COALESCE(removed_at, ?) WHERE id = ?').run(now, str(a.node_id));
      return true;
    })();
  }

  /** Settles once the facts are committed (grouped with others that arrived together). */
  async recordFacts(agentId: string, facts: Facts, now: number): Promise<void> {
    return this.#facts.submit({ agentId, facts, now });
  }

  #writeFacts(agentId: string, facts: Facts, now: number): void {
    const db = this.#db;
    db.transaction(() => {
      const a = db.prepare('SELECT cluster_id, node_id, facts FROM agents WHERE id = ?').get(agentId) as Row | undefined;
      if (!a) return;
      // Each role's tunnel reports its own facts (the cluster role its Kubernetes, the node role its
      // device): merged, so one role's report does not wipe what another reported (issue 15).
      facts = mergeRoleFacts(parseFacts(a.facts), facts);
      db.prepare('UPDATE agents SET facts = ?, last_seen = MAX(COALESCE(last_seen, 0), ?) WHERE id = ?').run(
        JSON.stringify(facts),
        now,
        agentId,
      );
      db.prepare('UPDATE nodes SET facts = ? WHERE id = ?').run(JSON.stringify(facts), str(a.node_id));
      if (typeof facts.kubernetesVersion === 'string') {
        db.prepare('UPDATE clusters SET kubernetes_version = ? WHERE id = ?').run(facts.kubernetesVersion, str(a.cluster_id));
      }
    })();
  }

  async touch(entries: ReadonlyArray<{ agentId: string; at: number }>): Promise<void> {
    if (entries.length === 0) return;
    const stmt = this.#db.prepare('UPDATE agents SET last_seen = MAX(COALESCE(last_seen, 0), ?) WHERE id = ?');
    this.#db.transaction(() => {
      for (const e of entries) stmt.run(e.at, e.agentId);
    })();
  }

  async recordConnectionEvents(events: readonly ConnectionEventRecord[]): Promise<void> {
    if (events.length === 0) return;
    const stmt = this.#db.prepare('INSERT INTO connection_events (cluster_id, agent_id, role, session_id, kind, at, reason, remote) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.#db.transaction(() => {
      for (const e of events) stmt.run(e.clusterId, e.agentId, e.role, e.sessionId, e.kind, e.at, e.reason, e.remote);
    })();
  }

  async connectionEvents(clusterId: string, limit: number): Promise<ConnectionEventRecord[]> {
    const rows = this.#db.prepare('SELECT * FROM connection_events WHERE cluster_id = ? ORDER BY at DESC, id DESC LIMIT ?').all(clusterId, limit) as Row[];
    return rows.map((r) => ({
      clusterId: String(r.cluster_id), agentId: String(r.agent_id), role: String(r.role) as Role, sessionId: String(r.session_id),
      kind: r.kind === 'connect' ? 'connect' : 'disconnect', at: Number(r.at), reason: String(r.reason), remote: r.remote === null ? null : String(r.remote),
    }));
  }

  async pruneConnectionEvents(before: number, perCluster: number, clusters: readonly string[]): Promise<number> {
    const old = this.#db.prepare('DELETE FROM connection_events WHERE at < ?');
    const over = this.#db.prepare(
      `DELETE FROM connection_events WHERE cluster_id = ? AND id NOT IN (
         SELECT id FROM connection_events WHERE cluster_id = ? ORDER BY at DESC, id DESC LIMIT ?)`,
    );
    return this.#db.transaction(() => {
      let n = old.run(before).changes;
      for (const c of clusters) n += over.run(c, c, perCluster).changes;
      return n;
    })();
  }

  async getCluster(id: string): Promise<ClusterRecord | undefined> {
    const r = this.#db.prepare('SELECT * FROM clusters WHERE id = ?').get(id) as Row | undefined;
    return r ? clusterFrom(r) : undefined;
  }

  /** Bumped by every write to a cluster's id, name or labels (this process is the only writer). */
  #clustersVersion = 0;

  clustersVersion(): number {
    return this.#clustersVersion;
  }

  async listClusters(): Promise<ClusterRecord[]> {
    return (this.#db.prepare('SELECT * FROM clusters ORDER BY created_at, id').all() as Row[]).map(clusterFrom);
  }

  async patchClusterLabels(id: string, patch: Record<string, string | null>): Promise<ClusterRecord | undefined> {
    const db = this.#db;
    return db.transaction(() => {
      const r = db.prepare('SELECT * FROM clusters WHERE id = ?').get(id) as Row | undefined;
      if (!r) return undefined;
      const labels: Labels = { ...clusterFrom(r).labels };
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete labels[k];
        else labels[k] = v;
      }
      this.#clustersVersion++;
      db.prepare('UPDATE clusters SET labels = ? WHERE id = ?').run(JSON.stringify(labels), id);
      return { ...clusterFrom(r), labels };
    })();
  }

  async deleteCluster(id: string, d: ClusterDeletion): Promise<{ agents: DeletedAgentRecord[] } | undefined> {
    const db = this.#db;
    const run = db.transaction((): { agents: DeletedAgentRecord[] } | undefined => {
      const c = db.prepare('SELECT name FROM clusters WHERE id = ?').get(id) as Row | undefined;
      if (!c) return undefined;
      // Agents already unregistered or revoked have nothing left to be told: only live ones move.
      db.prepare(
        `INSERT OR REPLACE INTO deleted_agents (agent_id, cluster_id, cluster_name, roles, credential_hash,
           prev_credential_hash, keep_workloads, uninstall, deleted_at, deleted_by, cleaned_roles)
         SELECT id, cluster_id, ?, roles, credential_hash, prev_credential_hash, ?, ?, ?, ?, '[]'
         FROM agents WHERE cluster_id = ? AND removed_at IS NULL AND revoked_at IS NULL`,
      ).run(str(c.name), d.keepWorkloads ? 1 : 0, d.uninstallAgents ? 1 : 0, d.at, d.by, id);
      db.prepare('DELETE FROM role_bindings WHERE cluster_id = ?').run(id);
      db.prepare('DELETE FROM group_bindings WHERE cluster_id = ?').run(id);
      db.prepare('DELETE FROM project_bindings WHERE project IN (SELECT name FROM projects WHERE cluster_id = ?)').run(id);
      db.prepare('DELETE FROM projects WHERE cluster_id = ?').run(id);
      db.prepare('DELETE FROM agents WHERE cluster_id = ?').run(id);
      db.prepare('DELETE FROM nodes WHERE cluster_id = ?').run(id);
      db.prepare('DELETE FROM tokens WHERE cluster_id = ?').run(id);
      db.prepare('DELETE FROM clusters WHERE id = ?').run(id);
      this.#clustersVersion++;
      const rows = db.prepare('SELECT * FROM deleted_agents WHERE cluster_id = ? ORDER BY agent_id').all(id) as Row[];
      return { agents: rows.map(deletedAgentFrom) };
    });
    return run.immediate();
  }

  async createProject(p: ProjectRecord): Promise<boolean> {
    const r = this.#db
      .prepare('INSERT OR IGNORE INTO projects (name, cluster_id, namespaces, created_at) VALUES (?, ?, ?, ?)')
      .run(p.name, p.clusterId, JSON.stringify(p.namespaces), p.createdAt);
    return r.changes > 0;
  }

  async getProject(name: string): Promise<ProjectRecord | undefined> {
    const r = this.#db.prepare('SELECT * FROM projects WHERE name = ?').get(name) as Row | undefined;
    return r ? projectFrom(r) : undefined;
  }

  async listProjects(filter?: { clusterId?: string }): Promise<ProjectRecord[]> {
    const rows = filter?.clusterId
      ? this.#db.prepare('SELECT * FROM projects WHERE cluster_id = ? ORDER BY name').all(filter.clusterId)
      : this.#db.prepare('SELECT * FROM projects ORDER BY name').all();
    return (rows as Row[]).map(projectFrom);
  }

  async setProjectNamespaces(name: string, namespaces: readonly string[]): Promise<ProjectRecord | undefined> {
    this.#db.prepare('UPDATE projects SET namespaces = ? WHERE name = ?').run(JSON.stringify([...new Set(namespaces)].sort()), name);
    return this.getProject(name);
  }

  async deleteProject(name: string): Promise<boolean> {
    const db = this.#db;
    return db.transaction(() => {
      db.prepare('DELETE FROM project_bindings WHERE project = ?').run(name);
      return db.prepare('DELETE FROM projects WHERE name = ?').run(name).changes > 0;
    })();
  }

  async bindProjectRole(b: ProjectBinding): Promise<boolean> {
    const r = this.#db
      .prepare('INSERT OR IGNORE INTO project_bindings (user_name, project, role, created_at) VALUES (?, ?, ?, ?)')
      .run(b.userName, b.project, b.role, b.createdAt);
    return r.changes > 0;
  }

  async unbindProjectRole(userName: string, project: string, role: ProjectRole): Promise<boolean> {
    return this.#db.prepare('DELETE FROM project_bindings WHERE user_name = ? AND project = ? AND role = ?').run(userName, project, role).changes > 0;
  }

  async listProjectBindings(filter: { project?: string; userName?: string; clusterId?: string } = {}): Promise<ProjectBinding[]> {
    const rows = this.#db
      .prepare(
        `SELECT b.* FROM project_bindings b JOIN projects p ON p.name = b.project
         WHERE (? IS NULL OR b.project = ?) AND (? IS NULL OR b.user_name = ?) AND (? IS NULL OR p.cluster_id = ?)
         ORDER BY b.project, b.user_name, b.role`,
      )
      .all(filter.project ?? null, filter.project ?? null, filter.userName ?? null, filter.userName ?? null, filter.clusterId ?? null, filter.clusterId ?? null) as Row[];
    return rows.map((r) => ({ userName: str(r.user_name), project: str(r.project), role: str(r.role) as ProjectRole, createdAt: num(r.created_at) }));
  }

  async getDeletedAgent(agentId: string): Promise<DeletedAgentRecord | undefined> {
    const r = this.#db.prepare('SELECT * FROM deleted_agents WHERE agent_id = ?').get(agentId) as Row | undefined;
    return r ? deletedAgentFrom(r) : undefined;
  }

  async listDeletedAgents(filter?: { clusterId?: string }): Promise<DeletedAgentRecord[]> {
    const rows = filter?.clusterId
      ? this.#db.prepare('SELECT * FROM deleted_agents WHERE cluster_id = ? ORDER BY deleted_at, agent_id').all(filter.clusterId)
      : this.#db.prepare('SELECT * FROM deleted_agents ORDER BY deleted_at, agent_id').all();
    return (rows as Row[]).map(deletedAgentFrom);
  }

  async markCleaned(agentId: string, roles: readonly Role[]): Promise<Role[] | undefined> {
    const db = this.#db;
    return db.transaction((): Role[] | undefined => {
      const r = db.prepare('SELECT * FROM deleted_agents WHERE agent_id = ?').get(agentId) as Row | undefined;
      if (!r) return undefined;
      const rec = deletedAgentFrom(r);
      const cleaned = [...new Set([...rec.cleanedRoles, ...roles.filter((x) => rec.roles.includes(x))])].sort();
      const left = rec.roles.filter((x) => !cleaned.includes(x));
      if (left.length === 0) db.prepare('DELETE FROM deleted_agents WHERE agent_id = ?').run(agentId);
      else db.prepare('UPDATE deleted_agents SET cleaned_roles = ? WHERE agent_id = ?').run(JSON.stringify(cleaned), agentId);
      return left;
    }).immediate();
  }

  async listNodes(filter?: { clusterId?: string }): Promise<NodeRecord[]> {
    const rows = filter?.clusterId
      ? this.#db.prepare('SELECT * FROM nodes WHERE cluster_id = ? ORDER BY created_at, id').all(filter.clusterId)
      : this.#db.prepare('SELECT * FROM nodes ORDER BY created_at, id').all();
    return (rows as Row[]).map(nodeFrom);
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#facts.flush();
    if (this.#db.open) this.#db.close();
  }
}

/** Thrown inside the enrol transaction to roll it back with a refusal. */
class EnrolAbort extends Error {
  readonly reason: 'CLUSTER_NOT_FOUND';
  constructor(reason: 'CLUSTER_NOT_FOUND') {
    super(reason);
    this.reason = reason;
  }
}

/** Top-level facts and `extras` keys of the new report win; keys only an earlier report had stay. */
export function mergeRoleFacts(old: Facts, next: Facts): Facts {
  const extras = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const merged: Facts = { ...old, ...next };
  if (old.extras !== undefined || next.extras !== undefined) merged.extras = { ...extras(old.extras), ...extras(next.extras) };
  return merged;
}

export function parseFacts(v: unknown): Facts {
  if (typeof v !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(v);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Facts) : {};
  } catch {
    return {};
  }
}
