// Versioned schema of the agent store. Entry i upgrades from version i to i+1 (PRAGMA
// user_version). Append only: a shipped migration is never edited, a device may skip versions.

export const MIGRATIONS: readonly string[] = Object.freeze([
  // v1: identity (one row), per-role connection state, credential-rotation lease.
  `CREATE TABLE identity (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     server_url TEXT NOT NULL,
     ca_pem TEXT NOT NULL,
     ca_sha256 TEXT NOT NULL,
     agent_id TEXT NOT NULL,
     cluster_id TEXT NOT NULL,
     node_id TEXT NOT NULL,
     credential TEXT NOT NULL,
     credential_issued_at TEXT NOT NULL,
     credential_expires_at TEXT,
     name TEXT,
     labels TEXT NOT NULL DEFAULT '{}',
     kubeconfig TEXT,
     roles TEXT NOT NULL DEFAULT '[]',
     registered_at TEXT NOT NULL
   );
   CREATE TABLE role_state (
     role TEXT PRIMARY KEY CHECK (role IN ('cluster', 'node', 'fleet')),
     state TEXT NOT NULL CHECK (state IN ('connected', 'connecting', 'disconnected')),
     since TEXT NOT NULL,
     last_error TEXT,
     next_retry_at TEXT,
     pid INTEGER,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE rotation_lease (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     holder TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );`,
  // v2 (issue 18): the server URL an agent falls back to during a URL change (until a time), and
  // which URL each role's tunnel uses (agent status).
  `ALTER TABLE identity ADD COLUMN fallback_url TEXT;
   ALTER TABLE identity ADD COLUMN fallback_until TEXT;
   ALTER TABLE role_state ADD COLUMN server_url TEXT;`,
]);
