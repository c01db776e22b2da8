// The agent's local SQLite store: one database per data dir (ARCHITECTURE.md §5, §7) holding
// the server URL, the pinned CA, the identity and credential, and per-role connection state,
// so `drover agent status` answers from here alone while the server is down. Several role
// processes share it (one per systemd unit), hence WAL and a busy timeout.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AgentError } from './errors.ts';
import { LIMITS } from './limits.ts';
import { MIGRATIONS } from './store-migrations.ts';
import type { Role } from './config.ts';

export const DB_FILE = 'agent.db';

export interface Identity {
  serverUrl: string;
  caPem: string;
  caSha256: string;
  agentId: string;
  clusterId: string;
  nodeId: string;
  credential: string;
  credentialIssuedAt: string;
  credentialExpiresAt: string | null;
  name: string | null;
  labels: Record<string, string>;
  kubeconfig: string | null;
  roles: Role[];
  registeredAt: string;
  /** During a server URL change (issue 18): the previous URL, tried when `serverUrl` fails, until `fallbackUntil`. */
  fallbackUrl?: string | null;
  fallbackUntil?: string | null;
}

export type ConnectionState = 'connected' | 'connecting' | 'disconnected';

export interface RoleState {
  role: Role;
  state: ConnectionState;
  since: string;
  lastError: string | null;
  nextRetryAt: string | null;
  pid: number | null;
  updatedAt: string;
  /** The server URL this role's tunnel uses or last tried (issue 18: URL changes). */
  serverUrl?: string | null;
}

interface IdentityRow {
  server_url: string; ca_pem: string; ca_sha256: string; agent_id: string; cluster_id: string;
  node_id: string; credential: string; credential_issued_at: string; credential_expires_at: string | null;
  name: string | null; labels: string; kubeconfig: string | null; roles: string; registered_at: string;
  fallback_url: string | null; fallback_until: string | null;
}

interface RoleStateRow {
  role: Role; state: ConnectionState; since: string; last_error: string | null;
  next_retry_at: string | null; pid: number | null; updated_at: string; server_url: string | null;
}

/** Creates the data dir 0700 and the database 0600 before SQLite touches them (no umask race). */
function prepareFiles(dataDir: string): string {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
  const file = path.join(dataDir, DB_FILE);
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  fs.chmodSync(file, 0o600);
  return file;
}

export class AgentStore {
  readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens (creating when `create`) and migrates the store of a data dir. */
  static open(dataDir: string, opts: { create: boolean }): AgentStore {
    const file = path.join(dataDir, DB_FILE);
    if (!opts.create && !fs.existsSync(file)) {
      throw new AgentError('NOT_REGISTERED', `no agent state in ${dataDir}; run \`drover agent register\` first (or pass --data-dir)`);
    }
    try {
      const db = new Database(opts.create ? prepareFiles(dataDir) : file);
      // First, so every later statement (even switching to WAL) waits for the other role
      // processes' locks instead of failing with SQLITE_BUSY.
      db.pragma(`busy_timeout = ${LIMITS.sqliteBusyTimeoutMs}`);
      db.pragma('journal_mode = WAL');
      // FULL: a rotated credential the server already switched to must survive a power cut.
      db.pragma('synchronous = FULL');
      const store = new AgentStore(db);
      store.migrate();
      return store;
    } catch (err) {
      if (err instanceof AgentError) throw err;
      throw new AgentError('STORE_ERROR', `cannot open ${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new AgentError('STORE_ERROR', `store schema v${current} is newer than this agent (v${MIGRATIONS.length}); upgrade drover`);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        // Re-read under the write lock: the role processes of one device start together and
        // another one may have applied this step a moment ago.
        if ((this.db.pragma('user_version', { simple: true }) as number) > v) return;
        this.db.exec(MIGRATIONS[v] as string);
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  close(): void {
    this.db.close();
  }

  getIdentity(): Identity | undefined {
    const row = this.db.prepare('SELECT * FROM identity WHERE id = 1').get() as IdentityRow | undefined;
    if (!row) return undefined;
    return {
      serverUrl: row.server_url, caPem: row.ca_pem, caSha256: row.ca_sha256, agentId: row.agent_id,
      clusterId: row.cluster_id, nodeId: row.node_id, credential: row.credential,
      credentialIssuedAt: row.credential_issued_at, credentialExpiresAt: row.credential_expires_at,
      name: row.name, labels: JSON.parse(row.labels) as Record<string, string>, kubeconfig: row.kubeconfig,
      roles: JSON.parse(row.roles) as Role[], registeredAt: row.registered_at,
      ...(row.fallback_url === null ? {} : { fallbackUrl: row.fallback_url, fallbackUntil: row.fallback_until }),
    };
  }

  requireIdentity(dataDir: string): Identity {
    const id = this.getIdentity();
    if (!id) throw new AgentError('NOT_REGISTERED', `no agent identity in ${dataDir}; run \`drover agent register\` first`);
    return id;
  }

  /** Committed before register returns: the server already counted the token use. */
  saveIdentity(id: Identity): void {
    this.db.prepare(
      `INSERT INTO identity (id, server_url, ca_pem, ca_sha256, agent_id, cluster_id, node_id, credential,
         credential_issued_at, credential_expires_at, name, labels, kubeconfig, roles, registered_at)
       VALUES (1, @serverUrl, @caPem, @caSha256, @agentId, @clusterId, @nodeId, @credential,
         @credentialIssuedAt, @credentialExpiresAt, @name, @labels, @kubeconfig, @roles, @registeredAt)`,
    ).run({ ...id, labels: JSON.stringify(id.labels), roles: JSON.stringify(id.roles) });
  }

  /** Committed as soon as the server answers a rotation: from then on the old one works once only. */
  saveCredential(credential: string, issuedAt: string, expiresAt: string | null): void {
    this.db.prepare(
      'UPDATE identity SET credential = ?, credential_issued_at = ?, credential_expires_at = ? WHERE id = 1',
    ).run(credential, issuedAt, expiresAt);
  }

  /** The server's trust bundle, pushed over the tunnel during a CA rotation (issue 18). */
  saveTrust(caPem: string, caSha256: string): void {
    this.db.prepare('UPDATE identity SET ca_pem = ?, ca_sha256 = ? WHERE id = 1').run(caPem, caSha256);
  }

  /** A server URL change (issue 18): the new URL first, the previous one as fallback until a time. */
  saveServerUrl(url: string, fallbackUrl: string | null, fallbackUntil: string | null): void {
    this.db.prepare('UPDATE identity SET server_url = ?, fallback_url = ?, fallback_until = ? WHERE id = 1').run(url, fallbackUrl, fallbackUntil);
  }

  /** Forgets identity and connection state (unregister). The database file itself stays. */
  clearIdentity(): void {
    this.db.transaction(() => {
      this.db.exec('DELETE FROM identity; DELETE FROM role_state; DELETE FROM rotation_lease;');
    }).immediate();
  }

  /**
   * Role state is what `agent status` shows: rewritten at every start and state change, so it is
   * written without an fsync (synchronous=NORMAL under WAL keeps the database consistent; a power
   * cut may lose the newest state, which the next start rewrites). Issue 25: with FULL, these
   * fsyncs were 60–290 ms of an all-roles start → connected.
   */
  putRoleState(s: RoleState): void {
    if (this.db.inTransaction) {
      this.writeRoleState(s);
      return;
    }
    const previous = this.db.pragma('synchronous', { simple: true }) as number;
    this.db.pragma('synchronous = NORMAL');
    try {
      this.writeRoleState(s);
    } finally {
      this.db.pragma(`synchronous = ${previous}`);
    }
  }

  private writeRoleState(s: RoleState): void {
    this.db.prepare(
      `INSERT INTO role_state (role, state, since, last_error, next_retry_at, pid, updated_at, server_url)
       VALUES (@role, @state, @since, @lastError, @nextRetryAt, @pid, @updatedAt, @serverUrl)
       ON CONFLICT(role) DO UPDATE SET state = excluded.state, since = excluded.since,
         last_error = excluded.last_error, next_retry_at = excluded.next_retry_at,
         pid = excluded.pid, updated_at = excluded.updated_at, server_url = excluded.server_url`,
    ).run({ ...s, serverUrl: s.serverUrl ?? null });
  }

  roleStates(): RoleState[] {
    const rows = this.db.prepare('SELECT * FROM role_state ORDER BY role').all() as RoleStateRow[];
    return rows.map((r) => ({
      role: r.role, state: r.state, since: r.since, lastError: r.last_error,
      nextRetryAt: r.next_retry_at, pid: r.pid, updatedAt: r.updated_at, serverUrl: r.server_url,
    }));
  }

  /**
   * Only one process of a device rotates the shared credential at a time: a lease row taken
   * with a conditional update (atomic in SQLite), released or left to expire.
   */
  tryTakeRotationLease(holder: string, nowMs: number, ttlMs: number): boolean {
    const res = this.db.prepare(
      `INSERT INTO rotation_lease (id, holder, expires_at) VALUES (1, @holder, @exp)
       ON CONFLICT(id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE rotation_lease.expires_at < @now OR rotation_lease.holder = @holder`,
    ).run({ holder, exp: nowMs + ttlMs, now: nowMs });
    return res.changes === 1;
  }

  releaseRotationLease(holder: string): void {
    this.db.prepare('DELETE FROM rotation_lease WHERE id = 1 AND holder = ?').run(holder);
  }
}
