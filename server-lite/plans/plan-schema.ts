// The node plans' tables (decision 0910), written once in the SQL both SQLite and PostgreSQL
// understand. On SQLite they live in plans.db (plans/sqlite-plan-store.ts); on PostgreSQL they are
// migration 10 of the server's list (store/migrations.ts, decision 1110), with the node clocks the
// replicas share. `window` is a reserved word in PostgreSQL: there the column is `time_window`.
export function planTables(windowColumn: 'window' | 'time_window'): string {
  return `CREATE TABLE plans (
     name TEXT PRIMARY KEY,
     checksum TEXT NOT NULL,
     document TEXT NOT NULL,
     target TEXT NOT NULL,
     concurrency TEXT NOT NULL,
     max_failures INTEGER NOT NULL,
     failure_base INTEGER NOT NULL DEFAULT 0,
     ${windowColumn} TEXT,
     paused INTEGER NOT NULL DEFAULT 0,
     canceled INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE plan_nodes (
     plan TEXT NOT NULL,
     node_id TEXT NOT NULL,
     assigned TEXT,
     assigned_at INTEGER,
     state TEXT,
     checksum TEXT,
     source TEXT,
     instruction TEXT,
     exit_code INTEGER,
     message TEXT,
     since TEXT,
     steps TEXT NOT NULL DEFAULT '{}',
     reports INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (plan, node_id)
   );
   CREATE INDEX plan_nodes_node ON plan_nodes (node_id);
   CREATE TABLE plan_agent_seq (agent_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);`;
}

/** PostgreSQL only: a node's clock as the replica that heard it stored it (SQLite keeps it in memory). */
export const PLAN_NODE_CLOCKS = 'CREATE TABLE plan_node_clocks (node_id TEXT PRIMARY KEY, utc_offset_minutes INTEGER NOT NULL, updated_at INTEGER NOT NULL);';
