// Versioned schema of the fleet agent's tables. They live in the agent's one SQLite database next
// to agents/common's tables, so they keep their own migrations table (`fleet_migrations`) rather
// than PRAGMA user_version, which agents/common owns. Append only: a shipped entry is never edited.
import type { Database } from 'better-sqlite3';
import { FleetAgentError } from './errors.ts';

export const FLEET_MIGRATIONS: readonly string[] = Object.freeze([
  // v1: desired deployments, apply results, inventory, apply journal, status outbox.
  `CREATE TABLE fleet_deployments (
     id TEXT PRIMARY KEY,
     bundle TEXT NOT NULL,
     revision TEXT NOT NULL,
     manifests TEXT NOT NULL,
     options TEXT NOT NULL,
     received_at TEXT NOT NULL
   );
   CREATE TABLE fleet_applied (
     deployment_id TEXT PRIMARY KEY,
     revision TEXT,
     applied_at TEXT,
     error TEXT,
     error_revision TEXT
   );
   CREATE TABLE fleet_inventory (
     deployment_id TEXT NOT NULL,
     obj_key TEXT NOT NULL,
     grp TEXT NOT NULL,
     version TEXT NOT NULL,
     kind TEXT NOT NULL,
     namespace TEXT NOT NULL,
     name TEXT NOT NULL,
     uid TEXT NOT NULL,
     PRIMARY KEY (deployment_id, obj_key)
   );
   CREATE TABLE fleet_journal (
     deployment_id TEXT PRIMARY KEY,
     revision TEXT NOT NULL,
     started_at TEXT NOT NULL,
     finished_at TEXT
   );
   CREATE TABLE fleet_journal_steps (
     deployment_id TEXT NOT NULL,
     step INTEGER NOT NULL,
     action TEXT NOT NULL CHECK (action IN ('apply', 'prune', 'orphan')),
     obj_key TEXT NOT NULL,
     ref TEXT NOT NULL,
     done INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (deployment_id, step)
   );
   CREATE TABLE fleet_outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     deployment_id TEXT NOT NULL,
     revision TEXT NOT NULL,
     state TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     status TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE INDEX fleet_outbox_deployment ON fleet_outbox (deployment_id, seq);
   CREATE TABLE fleet_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // v2: deployments the server no longer wants (pruned, then forgotten); the latest status per
  // deployment, kept after the outbox drained, for `drover agent status`.
  `ALTER TABLE fleet_deployments ADD COLUMN removed_at TEXT;
   CREATE TABLE fleet_status (
     deployment_id TEXT PRIMARY KEY,
     state TEXT NOT NULL,
     status TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );`,
]);

/** Brings the fleet tables to the newest version, each step in its own transaction. */
export function migrateFleetTables(db: Database, now: () => Date): number {
  db.exec('CREATE TABLE IF NOT EXISTS fleet_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const row = db.prepare('SELECT MAX(version) AS v FROM fleet_migrations').get() as { v: number | null };
  const current = row.v ?? 0;
  if (current > FLEET_MIGRATIONS.length) {
    throw new FleetAgentError('STORE_SCHEMA_NEWER', `fleet tables are at version ${current}, this drover knows ${FLEET_MIGRATIONS.length}`);
  }
  const record = db.prepare('INSERT INTO fleet_migrations (version, applied_at) VALUES (?, ?)');
  for (let v = current; v < FLEET_MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(FLEET_MIGRATIONS[v]!);
      record.run(v + 1, now().toISOString());
    })();
  }
  return FLEET_MIGRATIONS.length;
}
