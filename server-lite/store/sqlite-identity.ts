// SQLite statements for users, their API tokens, cluster role bindings, the audit chain and the
// clusters' Kubernetes facts (migration 2). Kept apart from sqlite-store.ts (agents, tokens,
// clusters) so each file holds one concern; SqliteStore delegates here.
import type Database from 'better-sqlite3';
import { deleteExternal } from './sqlite-providers.ts';
import type { AuditRecord, ClusterRole, GlobalRole, KubeFacts, RoleBinding, UserRecord, UserTokenRecord } from './store.ts';

type Row = Record<string, unknown>;
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export const userFrom = (r: Row): UserRecord => ({
  name: String(r.name),
  globalRole: String(r.global_role) as GlobalRole,
  passwordHash: r.password_hash === null ? null : String(r.password_hash),
  createdAt: Number(r.created_at),
});

export const userTokenFrom = (r: Row): UserTokenRecord => ({
  id: String(r.id),
  userName: String(r.user_name),
  secretHash: String(r.secret_hash),
  description: String(r.description),
  createdAt: Number(r.created_at),
  expiresAt: numOrNull(r.expires_at),
  revokedAt: numOrNull(r.revoked_at),
});

export const bindingFrom = (r: Row): RoleBinding => ({
  userName: String(r.user_name),
  clusterId: String(r.cluster_id),
  role: String(r.role) as ClusterRole,
  createdAt: Number(r.created_at),
  ...(r.via_group == null ? {} : { group: String(r.via_group) }),
});

export const auditFrom = (r: Row): AuditRecord => ({
  seq: Number(r.seq),
  at: Number(r.at),
  user: String(r.user_name),
  idp: String(r.idp),
  clusterId: r.cluster_id === null ? null : String(r.cluster_id),
  verb: String(r.verb),
  path: String(r.path),
  status: Number(r.status),
  latencyMs: Number(r.latency_ms),
  ...(r.impersonated == null ? {} : { impersonated: String(r.impersonated) }),
  ...(r.provider == null ? {} : { provider: String(r.provider) }),
  prevHash: String(r.prev_hash),
  hash: String(r.hash),
});

export class SqliteIdentity {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  createUser(u: UserRecord): boolean {
    const r = this.#db
      .prepare('INSERT OR IGNORE INTO users (name, global_role, password_hash, created_at) VALUES (?, ?, ?, ?)')
      .run(u.name, u.globalRole, u.passwordHash, u.createdAt);
    return r.changes > 0;
  }

  getUser(name: string): UserRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM users WHERE name = ?').get(name) as Row | undefined;
    return r ? userFrom(r) : undefined;
  }

  listUsers(): UserRecord[] {
    return (this.#db.prepare('SELECT * FROM users ORDER BY name').all() as Row[]).map(userFrom);
  }

  deleteUser(name: string): boolean {
    const db = this.#db;
    return db.transaction(() => {
      const existed = db.prepare('SELECT 1 FROM users WHERE name = ?').get(name) !== undefined;
      deleteExternal(db, name);
      return existed;
    })();
  }

  setPassword(name: string, hash: string): boolean {
    return this.#db.prepare('UPDATE users SET password_hash = ? WHERE name = ?').run(hash, name).changes > 0;
  }

  createUserToken(t: UserTokenRecord): void {
    this.#db
      .prepare(
        `INSERT INTO user_tokens (id, user_name, secret_hash, description, created_at, expires_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(t.id, t.userName, t.secretHash, t.description, t.createdAt, t.expiresAt, t.revokedAt);
  }

  getUserToken(id: string): UserTokenRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM user_tokens WHERE id = ?').get(id) as Row | undefined;
    return r ? userTokenFrom(r) : undefined;
  }

  listUserTokens(userName?: string): UserTokenRecord[] {
    const rows = userName
      ? this.#db.prepare('SELECT * FROM user_tokens WHERE user_name = ? ORDER BY created_at, id').all(userName)
      : this.#db.prepare('SELECT * FROM user_tokens ORDER BY created_at, id').all();
    return (rows as Row[]).map(userTokenFrom);
  }

  revokeUserToken(id: string, now: number): boolean {
    return this.#db.prepare('UPDATE user_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(now, id).changes > 0;
  }

  bindRole(b: RoleBinding): boolean {
    const r = this.#db
      .prepare('INSERT OR IGNORE INTO role_bindings (user_name, cluster_id, role, created_at) VALUES (?, ?, ?, ?)')
      .run(b.userName, b.clusterId, b.role, b.createdAt);
    return r.changes > 0;
  }

  unbindRole(userName: string, clusterId: string, role: ClusterRole): boolean {
    const r = this.#db.prepare('DELETE FROM role_bindings WHERE user_name = ? AND cluster_id = ? AND role = ?').run(userName, clusterId, role);
    return r.changes > 0;
  }

  listBindings(filter: { clusterId?: string; userName?: string } = {}): RoleBinding[] {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.clusterId !== undefined) {
      where.push('cluster_id = ?');
      args.push(filter.clusterId);
    }
    if (filter.userName !== undefined) {
      where.push('user_name = ?');
      args.push(filter.userName);
    }
    // Group bindings count for every current member (issue 18), so the proxy, the RBAC set pushed
    // to clusters and the listings all see them; membership changes show up on the next call.
    const all = `SELECT user_name, cluster_id, role, created_at, NULL AS via_group FROM role_bindings
      UNION ALL
      SELECT m.user_name, g.cluster_id, g.role, g.created_at, g.group_name AS via_group
        FROM group_bindings g JOIN group_members m ON m.group_name = g.group_name`;
    const sql = `SELECT * FROM (${all}) ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY cluster_id, user_name, role, via_group`;
    return (this.#db.prepare(sql).all(...args) as Row[]).map(bindingFrom);
  }

  appendAudit(rows: readonly AuditRecord[]): void {
    const stmt = this.#db.prepare(
      `INSERT INTO audit (seq, at, user_name, idp, cluster_id, verb, path, status, latency_ms, prev_hash, hash, impersonated, provider)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#db.transaction(() => {
      for (const a of rows) stmt.run(a.seq, a.at, a.user, a.idp, a.clusterId, a.verb, a.path, a.status, a.latencyMs, a.prevHash, a.hash, a.impersonated ?? null, a.provider ?? null);
    })();
  }

  lastAudit(): AuditRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM audit ORDER BY seq DESC LIMIT 1').get() as Row | undefined;
    return r ? auditFrom(r) : undefined;
  }

  listAudit(filter: { afterSeq?: number; limit?: number } = {}): AuditRecord[] {
    const rows = this.#db
      .prepare('SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?')
      .all(filter.afterSeq ?? 0, filter.limit ?? -1) as Row[];
    return rows.map(auditFrom);
  }

  setKubeFacts(clusterId: string, facts: KubeFacts): void {
    this.#db.prepare('UPDATE clusters SET kube_facts = ? WHERE id = ?').run(JSON.stringify(facts), clusterId);
  }

  getKubeFacts(clusterId: string): KubeFacts | undefined {
    const r = this.#db.prepare('SELECT kube_facts FROM clusters WHERE id = ?').get(clusterId) as Row | undefined;
    return r?.kube_facts ? (JSON.parse(String(r.kube_facts)) as KubeFacts) : undefined;
  }
}
