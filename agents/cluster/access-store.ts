// The cluster agent's local-endpoint state in the agent's SQLite database (issue 18): the last
// access set the server synced (endpoint settings, token hashes, identities) and the local audit
// outbox. Its own migrations table (`access_migrations`), like the fleet tables, since
// agents/common owns PRAGMA user_version. A set is stored in one transaction before the server's
// PUT is answered, so what the server counts as synced survives a restart or a power cut.
import type { Database } from 'better-sqlite3';
import type { AccessSet } from './access-set.ts';
import { createSeqOutbox } from '../common/outbox.ts';

export const ACCESS_MIGRATIONS: readonly string[] = Object.freeze([
  // v1: the synced set (one row, as JSON: it is replaced whole), the local audit outbox.
  `CREATE TABLE access_set (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     revision TEXT NOT NULL,
     body TEXT NOT NULL,
     synced_at TEXT NOT NULL
   );
   CREATE TABLE access_audit (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     k TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE TABLE access_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
]);

export function migrateAccessTables(db: Database, now: () => Date): void {
  db.exec('CREATE TABLE IF NOT EXISTS access_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const current = (db.prepare('SELECT MAX(version) AS v FROM access_migrations').get() as { v: number | null }).v ?? 0;
  if (current > ACCESS_MIGRATIONS.length) {
    throw new Error(`local endpoint tables are at version ${current}, this drover knows ${ACCESS_MIGRATIONS.length}; upgrade drover`);
  }
  const record = db.prepare('INSERT INTO access_migrations (version, applied_at) VALUES (?, ?)');
  for (let v = current; v < ACCESS_MIGRATIONS.length; v++) {
    db.transaction(() => {
      // Another role process of this device may have migrated a moment ago.
      const again = (db.prepare('SELECT MAX(version) AS v FROM access_migrations').get() as { v: number | null }).v ?? 0;
      if (again > v) return;
      db.exec(ACCESS_MIGRATIONS[v] as string);
      record.run(v + 1, now().toISOString());
    }).immediate();
  }
}

/** One local audit entry (docs/access.md): what the server appends to its audit chain. */
export interface LocalAuditEntry {
  at: number;
  user: string;
  idp: string;
  /** The identity provider's name (LDAP/OIDC users). */
  provider?: string;
  verb: string;
  path: string;
  status: number;
  latencyMs: number;
  impersonated?: string;
}

/** The local audit outbox (agents/common/outbox.ts, drop-oldest): entries in, rows out as the server reads them. */
export interface AuditOutbox {
  enqueue(entry: LocalAuditEntry, now: Date): number;
  peek(limit: number): { seq: number; createdAt: string; entry: LocalAuditEntry }[];
  ack(seq: number): number;
  length(): number;
  dropped(): number;
}

export interface AccessStore {
  load(): { set: AccessSet; syncedAt: string } | undefined;
  /** Committed before the server's PUT is answered. */
  save(set: AccessSet, now: Date): void;
  audit: AuditOutbox;
}

/** Most local audit rows kept while the server is away; past it the oldest go (and are counted). */
export const AUDIT_OUTBOX_MAX_ROWS = 100_000;

export function openAccessStore(db: Database, now: () => Date): AccessStore {
  migrateAccessTables(db, now);
  const get = db.prepare('SELECT body, synced_at FROM access_set WHERE id = 1');
  const put = db.prepare(`INSERT INTO access_set (id, revision, body, synced_at) VALUES (1, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, body = excluded.body, synced_at = excluded.synced_at`);
  return {
    load() {
      const row = get.get() as { body: string; synced_at: string } | undefined;
      if (!row) return undefined;
      return { set: JSON.parse(row.body) as AccessSet, syncedAt: row.synced_at };
    },
    save(set, at) {
      put.run(set.revision, JSON.stringify(set), at.toISOString());
    },
    audit: auditOutbox(db),
  };
}

function auditOutbox(db: Database): AuditOutbox {
  const q = createSeqOutbox(db, { table: 'access_audit', keyColumn: 'k', bodyColumn: 'body', extraColumns: [], metaTable: 'access_meta', maxRows: AUDIT_OUTBOX_MAX_ROWS, overflow: 'drop-oldest' });
  return {
    // Audit entries are never superseded: no fingerprint, every one is queued.
    enqueue: (entry, now) => q.enqueue({ key: 'audit', body: JSON.stringify(entry) }, now) ?? 0,
    peek: (limit) => q.peek(limit).map((r) => ({ seq: r.seq, createdAt: r.createdAt, entry: JSON.parse(r.body) as LocalAuditEntry })),
    ack: (seq) => q.ack(seq),
    length: () => q.length(),
    dropped: () => q.dropped(),
  };
}
