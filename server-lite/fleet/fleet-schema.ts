// The fleet's tables (issue 6, decision 0751), written once in the SQL both SQLite and PostgreSQL
// understand (store/dialect.ts turns INTEGER, BLOB and AUTOINCREMENT into PostgreSQL's). On SQLite
// they live in their own file, fleet.db, with its own migrations table (group commit, synchronous
// FULL); on PostgreSQL they are one migration of the server's list (store/migrations.ts), in the
// database the replicas share (issue 17, decision 1100). Append-only: a new fleet migration is
// appended here (fleet.db) and as a new postgres-only entry of store/migrations.ts.
export const FLEET_MIGRATIONS: readonly string[] = Object.freeze([
  `CREATE TABLE fleet_bundles (
     name TEXT PRIMARY KEY, source TEXT NOT NULL, revision TEXT, spec TEXT NOT NULL,
     error_code TEXT, error_message TEXT, updated_at INTEGER NOT NULL);
   CREATE TABLE fleet_blobs (sha256 TEXT PRIMARY KEY, bytes BLOB NOT NULL);
   CREATE TABLE fleet_sets (revision TEXT PRIMARY KEY, chunk_index TEXT NOT NULL, objects INTEGER NOT NULL);
   CREATE TABLE fleet_targets (bundle TEXT NOT NULL, cluster_id TEXT NOT NULL, revision TEXT NOT NULL, PRIMARY KEY (bundle, cluster_id));
   CREATE TABLE fleet_deployments (
     bundle TEXT NOT NULL, cluster_id TEXT NOT NULL, desired_revision TEXT, acked_revision TEXT,
     applied_revision TEXT, reported_revision TEXT, state TEXT, message TEXT, applied_at TEXT, updated_at INTEGER NOT NULL,
     PRIMARY KEY (bundle, cluster_id));
   CREATE TABLE fleet_agent_seq (agent_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
   CREATE TABLE fleet_groups (name TEXT PRIMARY KEY, selector TEXT NOT NULL, created_at INTEGER NOT NULL);
   CREATE TABLE fleet_gitrepos (name TEXT PRIMARY KEY, spec TEXT NOT NULL, commit_id TEXT, error TEXT, polled_at INTEGER, created_at INTEGER NOT NULL);`,
  // Every status an agent reported, in its sequence order, with the agent's own time: what
  // happened at a site while it was offline arrives later but is shown when it happened.
  `CREATE TABLE fleet_status_events (
     agent_id TEXT NOT NULL, seq INTEGER NOT NULL, bundle TEXT NOT NULL, cluster_id TEXT NOT NULL,
     revision TEXT NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL, agent_time TEXT, received_at INTEGER NOT NULL,
     PRIMARY KEY (agent_id, seq));
   CREATE INDEX fleet_status_events_bundle ON fleet_status_events (bundle, cluster_id, agent_id, seq);`,
  // A pushed directory is kept (as blobs) so its bundles can be rendered again when clusters,
  // their labels or cluster groups change; `bundles` are those it still owns.
  `CREATE TABLE fleet_pushes (
     name TEXT PRIMARY KEY, opts TEXT NOT NULL, archive_index TEXT NOT NULL, bundles TEXT NOT NULL,
     fingerprint TEXT NOT NULL, updated_at INTEGER NOT NULL);`,
  // What a bundle was over time (`drover bundle history`): each new revision and each failed render,
  // the newest HISTORY_PER_BUNDLE kept.
  `CREATE TABLE fleet_bundle_history (
     id INTEGER PRIMARY KEY AUTOINCREMENT, bundle TEXT NOT NULL, revision TEXT, source TEXT NOT NULL,
     clusters INTEGER NOT NULL, error_code TEXT, error_message TEXT, warnings INTEGER NOT NULL, at INTEGER NOT NULL);
   CREATE INDEX fleet_bundle_history_bundle ON fleet_bundle_history (bundle, id);`,
  // Outbox rows of the wrong shape: kept with the reason, their seq consumed (issue 14).
  `CREATE TABLE fleet_status_quarantine (
     agent_id TEXT NOT NULL, seq INTEGER NOT NULL, cluster_id TEXT NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL,
     received_at INTEGER NOT NULL, PRIMARY KEY (agent_id, seq));`,
]);

/**
 * PostgreSQL only: the shared change counters replicas poll (a bundle stored through replica A must
 * make replica B look at its agents again; statuses stored on B must make the rollout holder plan).
 * SQLite keeps them in memory: one process owns fleet.db.
 */
// Its one row (id 1) is written by the first change, so a migrated database is still empty.
export const FLEET_SHARED_STATE = 'CREATE TABLE fleet_state (id INTEGER PRIMARY KEY, generation INTEGER NOT NULL, statuses INTEGER NOT NULL);';
