// PostgreSQL statements for users, API tokens, role and group bindings, identity providers, the
// audit chain and the clusters' Kubernetes facts: the counterpart of sqlite-identity.ts and
// sqlite-providers.ts, with the same row mappers. The audit chain with several writers: appendAudit
// takes an advisory transaction lock, reads the stored head and, when another replica appended
// since this writer last looked, re-chains the rows after it; it returns the rows as stored.
import { chain, GENESIS_HASH } from '../audit/audit-chain.ts';
import { LOCKS, type PgDb, type Sql } from './pg-db.ts';
import { auditFrom, bindingFrom, userFrom, userTokenFrom } from './sqlite-identity.ts';
import { groupBindingFrom, providerFrom } from './sqlite-providers.ts';
import type { AuditRecord, ClusterRole, ExternalUserRecord, GroupBinding, KubeFacts, ProviderRecord, RoleBinding, UserRecord, UserTokenRecord } from './store.ts';

/** Every row of a user (inside the caller's transaction): deleteUser and deleteProvider. */
async function deleteExternal(sql: Sql, userName: string): Promise<void> {
  await sql.run('DELETE FROM group_members WHERE user_name = ?', [userName]);
  await sql.run('DELETE FROM external_users WHERE user_name = ?', [userName]);
  await sql.run('DELETE FROM user_tokens WHERE user_name = ?', [userName]);
  await sql.run('DELETE FROM role_bindings WHERE user_name = ?', [userName]);
  await sql.run('DELETE FROM project_bindings WHERE user_name = ?', [userName]);
  await sql.run('DELETE FROM users WHERE name = ?', [userName]);
}

export class PgIdentity {
  readonly #db: PgDb;

  constructor(db: PgDb) {
    this.#db = db;
  }

  async createUser(u: UserRecord): Promise<boolean> {
    return (await this.#db.run('INSERT INTO users (name, global_role, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [u.name, u.globalRole, u.passwordHash, u.createdAt])) > 0;
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const r = await this.#db.one('SELECT * FROM users WHERE name = ?', [name]);
    return r ? userFrom(r) : undefined;
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.#db.rows('SELECT * FROM users ORDER BY name')).map(userFrom);
  }

  async deleteUser(name: string): Promise<boolean> {
    return this.#db.tx(async (sql) => {
      const existed = (await sql.one('SELECT 1 FROM users WHERE name = ? FOR UPDATE', [name])) !== undefined;
      await deleteExternal(sql, name);
      return existed;
    });
  }

  async setPassword(name: string, hash: string): Promise<boolean> {
    return (await this.#db.run('UPDATE users SET password_hash = ? WHERE name = ?', [hash, name])) > 0;
  }

  async createUserToken(t: UserTokenRecord): Promise<void> {
    await this.#db.run(
      `INSERT INTO user_tokens (id, user_name, secret_hash, description, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [t.id, t.userName, t.secretHash, t.description, t.createdAt, t.expiresAt, t.revokedAt],
    );
  }

  async getUserToken(id: string): Promise<UserTokenRecord | undefined> {
    const r = await this.#db.one('SELECT * FROM user_tokens WHERE id = ?', [id]);
    return r ? userTokenFrom(r) : undefined;
  }

  async listUserTokens(userName?: string): Promise<UserTokenRecord[]> {
    const rows = userName ? await this.#db.rows('SELECT * FROM user_tokens WHERE user_name = ? ORDER BY created_at, id', [userName]) : await this.#db.rows('SELECT * FROM user_tokens ORDER BY created_at, id');
    return rows.map(userTokenFrom);
  }

  async revokeUserToken(id: string, now: number): Promise<boolean> {
    return (await this.#db.run('UPDATE user_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?', [now, id])) > 0;
  }

  async bindRole(b: RoleBinding): Promise<boolean> {
    return (await this.#db.run('INSERT INTO role_bindings (user_name, cluster_id, role, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [b.userName, b.clusterId, b.role, b.createdAt])) > 0;
  }

  async unbindRole(userName: string, clusterId: string, role: ClusterRole): Promise<boolean> {
    return (await this.#db.run('DELETE FROM role_bindings WHERE user_name = ? AND cluster_id = ? AND role = ?', [userName, clusterId, role])) > 0;
  }

  async listBindings(filter: { clusterId?: string; userName?: string } = {}): Promise<RoleBinding[]> {
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
    const all = `SELECT user_name, cluster_id, role, created_at, NULL::text AS via_group FROM role_bindings
      UNION ALL
      SELECT m.user_name, g.cluster_id, g.role, g.created_at, g.group_name AS via_group
        FROM group_bindings g JOIN group_members m ON m.group_name = g.group_name`;
    // NULLS FIRST: SQLite sorts NULL first, and both stores list in the same order.
    const sql = `SELECT * FROM (${all}) b ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY cluster_id, user_name, role, via_group NULLS FIRST`;
    return (await this.#db.rows(sql, args)).map(bindingFrom);
  }

  async appendAudit(rows: readonly AuditRecord[]): Promise<AuditRecord[]> {
    if (rows.length === 0) return [];
    return this.#db.tx(async (sql) => {
      await sql.rows('SELECT pg_advisory_xact_lock(?)', [LOCKS.audit]);
      const head = await sql.one('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
      const last = head ? { seq: Number(head.seq), hash: String(head.hash) } : undefined;
      const first = rows[0];
      const fits = first !== undefined && first.seq === (last?.seq ?? 0) + 1 && first.prevHash === (last?.hash ?? GENESIS_HASH);
      // Another writer appended since the caller read the head: chain the same fields after it
      // (chain() replaces seq, prevHash and hash).
      const stored = fits ? [...rows] : chain(last, rows);
      // One statement per 1,000 rows (13 parameters each, under PostgreSQL's 65,535): one round trip per batch.
      for (let i = 0; i < stored.length; i += 1000) {
        const part = stored.slice(i, i + 1000);
        await sql.run(
          `INSERT INTO audit (seq, at, user_name, idp, cluster_id, verb, path, status, latency_ms, prev_hash, hash, impersonated, provider)
           VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          part.flatMap((a) => [a.seq, a.at, a.user, a.idp, a.clusterId, a.verb, a.path, a.status, a.latencyMs, a.prevHash, a.hash, a.impersonated ?? null, a.provider ?? null]),
        );
      }
      return stored;
    });
  }

  async lastAudit(): Promise<AuditRecord | undefined> {
    const r = await this.#db.one('SELECT * FROM audit ORDER BY seq DESC LIMIT 1');
    return r ? auditFrom(r) : undefined;
  }

  async listAudit(filter: { afterSeq?: number; limit?: number } = {}): Promise<AuditRecord[]> {
    const limit = filter.limit === undefined || filter.limit < 0 ? null : filter.limit;
    return (await this.#db.rows('SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?', [filter.afterSeq ?? 0, limit])).map(auditFrom);
  }

  async setKubeFacts(clusterId: string, facts: KubeFacts): Promise<void> {
    await this.#db.run('UPDATE clusters SET kube_facts = ? WHERE id = ?', [JSON.stringify(facts), clusterId]);
  }

  async getKubeFacts(clusterId: string): Promise<KubeFacts | undefined> {
    const r = await this.#db.one('SELECT kube_facts FROM clusters WHERE id = ?', [clusterId]);
    return r?.kube_facts ? (JSON.parse(String(r.kube_facts)) as KubeFacts) : undefined;
  }

  // --- identity providers, their users and groups (sqlite-providers.ts) ---
  async createProvider(p: ProviderRecord): Promise<boolean> {
    return (await this.#db.run('INSERT INTO auth_providers (name, kind, config, sealed_secret, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [p.name, p.kind, JSON.stringify(p.config), p.sealedSecret, p.createdAt])) > 0;
  }

  async getProvider(name: string): Promise<ProviderRecord | undefined> {
    const r = await this.#db.one('SELECT * FROM auth_providers WHERE name = ?', [name]);
    return r ? providerFrom(r) : undefined;
  }

  async listProviders(): Promise<ProviderRecord[]> {
    return (await this.#db.rows('SELECT * FROM auth_providers ORDER BY name')).map(providerFrom);
  }

  async deleteProvider(name: string): Promise<{ deleted: boolean; users: string[] }> {
    return this.#db.tx(async (sql) => {
      const users = (await sql.rows('SELECT user_name FROM external_users WHERE provider = ? ORDER BY user_name', [name])).map((r) => String(r.user_name));
      for (const u of users) await deleteExternal(sql, u);
      const deleted = (await sql.run('DELETE FROM auth_providers WHERE name = ?', [name])) > 0;
      return { deleted, users };
    });
  }

  async saveExternalUser(u: ExternalUserRecord, createdAt: number): Promise<void> {
    await this.#db.tx(async (sql) => {
      await sql.run("INSERT INTO users (name, global_role, password_hash, created_at) VALUES (?, 'user', NULL, ?) ON CONFLICT DO NOTHING", [u.userName, createdAt]);
      await sql.run(
        `INSERT INTO external_users (user_name, provider, login, subject, refreshed_at, sealed_refresh) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_name) DO UPDATE SET provider = excluded.provider, login = excluded.login, subject = excluded.subject,
           refreshed_at = excluded.refreshed_at, sealed_refresh = excluded.sealed_refresh`,
        [u.userName, u.provider, u.login, u.subject, u.refreshedAt, u.sealedRefresh],
      );
      await sql.run('DELETE FROM group_members WHERE user_name = ?', [u.userName]);
      for (const g of new Set(u.groups)) await sql.run('INSERT INTO group_members (user_name, group_name) VALUES (?, ?) ON CONFLICT DO NOTHING', [u.userName, g]);
    });
  }

  async getExternalUser(userName: string): Promise<ExternalUserRecord | undefined> {
    const r = await this.#db.one('SELECT * FROM external_users WHERE user_name = ?', [userName]);
    if (!r) return undefined;
    const groups = (await this.#db.rows('SELECT group_name FROM group_members WHERE user_name = ? ORDER BY group_name', [userName])).map((g) => String(g.group_name));
    return {
      userName: String(r.user_name),
      provider: String(r.provider),
      login: String(r.login),
      subject: String(r.subject),
      groups,
      refreshedAt: Number(r.refreshed_at),
      sealedRefresh: r.sealed_refresh === null ? null : String(r.sealed_refresh),
    };
  }

  async bindGroup(b: GroupBinding): Promise<boolean> {
    return (await this.#db.run('INSERT INTO group_bindings (group_name, cluster_id, role, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [b.group, b.clusterId, b.role, b.createdAt])) > 0;
  }

  async unbindGroup(group: string, clusterId: string, role: ClusterRole): Promise<boolean> {
    return (await this.#db.run('DELETE FROM group_bindings WHERE group_name = ? AND cluster_id = ? AND role = ?', [group, clusterId, role])) > 0;
  }

  async listGroupBindings(filter: { clusterId?: string } = {}): Promise<GroupBinding[]> {
    const rows =
      filter.clusterId === undefined
        ? await this.#db.rows('SELECT * FROM group_bindings ORDER BY cluster_id, group_name, role')
        : await this.#db.rows('SELECT * FROM group_bindings WHERE cluster_id = ? ORDER BY group_name, role', [filter.clusterId]);
    return rows.map(groupBindingFrom);
  }
}
