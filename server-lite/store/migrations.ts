// Versioned schema migrations, append-only: a released migration is never edited, a change is a
// new entry. The same versions will exist for PostgreSQL (ARCHITECTURE.md §7: one schema).

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    description: 'tokens, clusters, nodes, agents',
    sql: `
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        uses_max INTEGER NOT NULL,
        uses INTEGER NOT NULL DEFAULT 0,
        cluster_id TEXT,
        labels TEXT NOT NULL DEFAULT '{}',
        revoked_at INTEGER
      );
      CREATE TABLE clusters (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        labels TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,
        kubernetes_version TEXT
      );
      CREATE TABLE nodes (
        id TEXT PRIMARY KEY,
        cluster_id TEXT NOT NULL REFERENCES clusters(id),
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        facts TEXT NOT NULL DEFAULT '{}',
        removed_at INTEGER
      );
      CREATE INDEX nodes_cluster ON nodes(cluster_id);
      CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        cluster_id TEXT NOT NULL REFERENCES clusters(id),
        node_id TEXT NOT NULL REFERENCES nodes(id),
        hostname TEXT NOT NULL,
        roles TEXT NOT NULL,
        credential_hash TEXT NOT NULL,
        prev_credential_hash TEXT,
        credential_issued_at INTEGER NOT NULL,
        credential_expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        removed_at INTEGER,
        last_seen INTEGER,
        facts TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX agents_cluster ON agents(cluster_id);
    `,
  },
]);
