// Versioned schema of the node agent's tables (plans, their steps, file backups, history, the
// results outbox). Like the fleet agent's, they live in the agent's one SQLite database next to
// agents/common's tables and keep their own migrations table (`node_migrations`), since
// agents/common owns PRAGMA user_version. Append only: a shipped entry is never edited.
import type { Database } from 'better-sqlite3';

export const NODE_MIGRATIONS: readonly string[] = Object.freeze([
  // v1: plans being run (one row per name), their steps, file backups, history, outbox.
  `CREATE TABLE node_plans (
     name TEXT PRIMARY KEY,
     checksum TEXT NOT NULL,
     plan TEXT NOT NULL,
     source TEXT NOT NULL CHECK (source IN ('server', 'local')),
     state TEXT NOT NULL,
     phase TEXT NOT NULL DEFAULT 'apply',
     step INTEGER NOT NULL DEFAULT 0,
     step_started INTEGER NOT NULL DEFAULT 0,
     cancel_requested INTEGER NOT NULL DEFAULT 0,
     rollback_cause TEXT,
     instruction TEXT,
     exit_code INTEGER,
     message TEXT NOT NULL DEFAULT '',
     received_at TEXT NOT NULL,
     started_at TEXT,
     since TEXT NOT NULL
   );
   CREATE TABLE node_plan_steps (
     name TEXT NOT NULL,
     checksum TEXT NOT NULL,
     phase TEXT NOT NULL,
     step INTEGER NOT NULL,
     label TEXT NOT NULL,
     runs INTEGER NOT NULL DEFAULT 0,
     started_at TEXT,
     finished_at TEXT,
     exit_code INTEGER,
     output TEXT,
     PRIMARY KEY (name, checksum, phase, step)
   );
   CREATE TABLE node_file_backups (
     name TEXT NOT NULL,
     checksum TEXT NOT NULL,
     seq INTEGER NOT NULL,
     path TEXT NOT NULL,
     existed INTEGER NOT NULL,
     backup TEXT,
     PRIMARY KEY (name, checksum, path)
   );
   CREATE TABLE node_plan_history (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     name TEXT NOT NULL,
     checksum TEXT NOT NULL,
     source TEXT NOT NULL,
     state TEXT NOT NULL,
     message TEXT NOT NULL,
     started_at TEXT,
     finished_at TEXT NOT NULL
   );
   CREATE TABLE node_periodic (
     name TEXT NOT NULL,
     instruction TEXT NOT NULL,
     checksum TEXT NOT NULL,
     last_run TEXT NOT NULL,
     exit_code INTEGER,
     output TEXT NOT NULL,
     PRIMARY KEY (name, instruction)
   );
   CREATE TABLE node_outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     plan TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     result TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE INDEX node_outbox_plan ON node_outbox (plan, seq);
   CREATE TABLE node_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
]);

export class NodeSchemaNewer extends Error {
  readonly code = 'STORE_SCHEMA_NEWER';
}

/** Brings the node tables to the newest version, each step in its own transaction. */
export function migrateNodeTables(db: Database, now: () => Date): number {
  db.exec('CREATE TABLE IF NOT EXISTS node_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const current = (db.prepare('SELECT MAX(version) AS v FROM node_migrations').get() as { v: number | null }).v ?? 0;
  if (current > NODE_MIGRATIONS.length) throw new NodeSchemaNewer(`node tables are at version ${current}, this drover knows ${NODE_MIGRATIONS.length}`);
  const record = db.prepare('INSERT INTO node_migrations (version, applied_at) VALUES (?, ?)');
  for (let v = current; v < NODE_MIGRATIONS.length; v++) {
    db.transaction(() => {
      // Re-read under the write lock: another process of the device may have just migrated.
      if (((db.prepare('SELECT MAX(version) AS v FROM node_migrations').get() as { v: number | null }).v ?? 0) > v) return;
      db.exec(NODE_MIGRATIONS[v]!);
      record.run(v + 1, now().toISOString());
    }).immediate();
  }
  return NODE_MIGRATIONS.length;
}
