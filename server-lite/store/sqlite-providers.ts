// SQLite statements for identity providers, the users who log in through them, their group
// memberships and group role bindings (migration 4, issue 18). SqliteStore delegates here;
// listBindings' expansion of group bindings lives with the direct bindings (sqlite-identity.ts).
import type Database from 'better-sqlite3';
import type { ClusterRole, ExternalUserRecord, GroupBinding, ProviderRecord } from './store.ts';

type Row = Record<string, unknown>;

export const providerFrom = (r: Row): ProviderRecord => ({
  name: String(r.name),
  kind: String(r.kind) as ProviderRecord['kind'],
  config: JSON.parse(String(r.config)) as Record<string, unknown>,
  sealedSecret: String(r.sealed_secret),
  createdAt: Number(r.created_at),
});

export const groupBindingFrom = (r: Row): GroupBinding => ({
  group: String(r.group_name),
  clusterId: String(r.cluster_id),
  role: String(r.role) as ClusterRole,
  createdAt: Number(r.created_at),
});

export class SqliteProviders {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  createProvider(p: ProviderRecord): boolean {
    const r = this.#db
      .prepare('INSERT OR IGNORE INTO auth_providers (name, kind, config, sealed_secret, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(p.name, p.kind, JSON.stringify(p.config), p.sealedSecret, p.createdAt);
    return r.changes > 0;
  }

  getProvider(name: string): ProviderRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM auth_providers WHERE name = ?').get(name) as Row | undefined;
    return r ? providerFrom(r) : undefined;
  }

  listProviders(): ProviderRecord[] {
    return (this.#db.prepare('SELECT * FROM auth_providers ORDER BY name').all() as Row[]).map(providerFrom);
  }

  /** One transaction: the provider, its users, their tokens, memberships and direct bindings. */
  deleteProvider(name: string): { deleted: boolean; users: string[] } {
    const db = this.#db;
    return db.transaction(() => {
      const users = (db.prepare('SELECT user_name FROM external_users WHERE provider = ?').all(name) as Row[]).map((r) => String(r.user_name));
      for (const u of users) deleteExternal(db, u);
      const deleted = db.prepare('DELETE FROM auth_providers WHERE name = ?').run(name).changes > 0;
      return { deleted, users };
    })();
  }

  saveExternalUser(u: ExternalUserRecord, createdAt: number): void {
    const db = this.#db;
    db.transaction(() => {
      db.prepare("INSERT OR IGNORE INTO users (name, global_role, password_hash, created_at) VALUES (?, 'user', NULL, ?)").run(u.userName, createdAt);
      db.prepare(
        `INSERT INTO external_users (user_name, provider, login, subject, refreshed_at, sealed_refresh) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_name) DO UPDATE SET provider = excluded.provider, login = excluded.login, subject = excluded.subject,
           refreshed_at = excluded.refreshed_at, sealed_refresh = excluded.sealed_refresh`,
      ).run(u.userName, u.provider, u.login, u.subject, u.refreshedAt, u.sealedRefresh);
      db.prepare('DELETE FROM group_members WHERE user_name = ?').run(u.userName);
      const add = db.prepare('INSERT OR IGNORE INTO group_members (user_name, group_name) VALUES (?, ?)');
      for (const g of u.groups) add.run(u.userName, g);
    })();
  }

  getExternalUser(userName: string): ExternalUserRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM external_users WHERE user_name = ?').get(userName) as Row | undefined;
    if (!r) return undefined;
    const groups = (this.#db.prepare('SELECT group_name FROM group_members WHERE user_name = ? ORDER BY group_name').all(userName) as Row[]).map((g) => String(g.group_name));
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

  bindGroup(b: GroupBinding): boolean {
    const r = this.#db
      .prepare('INSERT OR IGNORE INTO group_bindings (group_name, cluster_id, role, created_at) VALUES (?, ?, ?, ?)')
      .run(b.group, b.clusterId, b.role, b.createdAt);
    return r.changes > 0;
  }

  unbindGroup(group: string, clusterId: string, role: ClusterRole): boolean {
    return this.#db.prepare('DELETE FROM group_bindings WHERE group_name = ? AND cluster_id = ? AND role = ?').run(group, clusterId, role).changes > 0;
  }

  listGroupBindings(filter: { clusterId?: string } = {}): GroupBinding[] {
    const rows =
      filter.clusterId === undefined
        ? this.#db.prepare('SELECT * FROM group_bindings ORDER BY cluster_id, group_name, role').all()
        : this.#db.prepare('SELECT * FROM group_bindings WHERE cluster_id = ? ORDER BY group_name, role').all(filter.clusterId);
    return (rows as Row[]).map(groupBindingFrom);
  }
}

/** Every row of a user, local or from a provider (inside the caller's transaction): deleteUser and deleteProvider. */
export function deleteExternal(db: Database.Database, userName: string): void {
  db.prepare('DELETE FROM group_members WHERE user_name = ?').run(userName);
  db.prepare('DELETE FROM external_users WHERE user_name = ?').run(userName);
  db.prepare('DELETE FROM user_tokens WHERE user_name = ?').run(userName);
  db.prepare('DELETE FROM role_bindings WHERE user_name = ?').run(userName);
  db.prepare('DELETE FROM project_bindings WHERE user_name = ?').run(userName);
  db.prepare('DELETE FROM users WHERE name = ?').run(userName);
}
