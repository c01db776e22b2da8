// SQLite statements for releases and agent upgrade rollouts (migration 7, issue 16); SqliteStore
// exposes an instance as `store.upgrades`. Executables stay files in DATA_DIR/releases/ only.
import type Database from 'better-sqlite3';
import type { ReleaseRecord, RolloutRecord, RolloutState, UpgradeAgentRecord, UpgradeRecords } from '../upgrades/upgrade-records.ts';

type Row = Record<string, unknown>;

export const releaseFrom = (r: Row): ReleaseRecord => ({
  version: String(r.version), arch: String(r.arch), artifact: String(r.artifact), sha256: String(r.sha256), size: Number(r.size),
  sums: String(r.sums), signature: String(r.signature), file: String(r.file), importedAt: Number(r.imported_at),
});
export const rolloutFrom = (r: Row): RolloutRecord => ({
  id: String(r.id), version: String(r.version), target: String(r.target), maxUnavailable: String(r.max_unavailable), canary: Number(r.canary),
  state: String(r.state) as RolloutState, message: String(r.message), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});
export const agentFrom = (r: Row): UpgradeAgentRecord => ({
  rolloutId: String(r.rollout_id), agentId: String(r.agent_id), state: String(r.state) as UpgradeAgentRecord['state'], canary: Number(r.canary) === 1,
  fromVersion: r.from_version === null ? null : String(r.from_version), bytes: Number(r.bytes), total: Number(r.total), message: String(r.message), since: Number(r.since),
  assigned: Number(r.assigned ?? 0) === 1,
});

/** The statements both stores run as they are (portable SQL, `?` placeholders). */
export const UPGRADE_SQL = Object.freeze({
  supersede: "UPDATE upgrade_rollouts SET state = 'Superseded', message = ?, updated_at = ? WHERE state IN ('Running', 'Halted')",
  insertRollout: 'INSERT INTO upgrade_rollouts (id, version, target, max_unavailable, canary, state, message, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  active: "SELECT * FROM upgrade_rollouts WHERE state IN ('Running', 'Halted') ORDER BY created_at DESC LIMIT 1",
  latest: 'SELECT * FROM upgrade_rollouts ORDER BY created_at DESC LIMIT 1',
  setState: 'UPDATE upgrade_rollouts SET state = ?, message = ?, updated_at = ? WHERE id = ?',
  agents: 'SELECT * FROM upgrade_agents WHERE rollout_id = ? ORDER BY agent_id',
  // One statement (one commit); ON CONFLICT … DO UPDATE is the same in PostgreSQL.
  putAgent: `INSERT INTO upgrade_agents (rollout_id, agent_id, state, canary, from_version, bytes, total, message, since, assigned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (rollout_id, agent_id) DO UPDATE SET state = excluded.state, canary = excluded.canary, from_version = excluded.from_version,
       bytes = excluded.bytes, total = excluded.total, message = excluded.message, since = excluded.since, assigned = excluded.assigned`,
  releases: 'SELECT * FROM releases ORDER BY imported_at, version, arch',
  release: 'SELECT * FROM releases WHERE version = ? AND arch = ?',
  deleteRelease: 'DELETE FROM releases WHERE version = ? AND arch = ?',
  deleteVersion: 'DELETE FROM releases WHERE version = ?',
  insertRelease: 'INSERT INTO releases (version, arch, artifact, sha256, size, sums, signature, file, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
});

export const rolloutArgs = (r: RolloutRecord): (string | number)[] => [r.id, r.version, r.target, r.maxUnavailable, r.canary, r.state, r.message, r.createdAt, r.updatedAt];
export const agentArgs = (a: UpgradeAgentRecord): (string | number | null)[] => [a.rolloutId, a.agentId, a.state, a.canary ? 1 : 0, a.fromVersion, a.bytes, a.total, a.message, a.since, a.assigned ? 1 : 0];
export const releaseArgs = (r: ReleaseRecord): (string | number)[] => [r.version, r.arch, r.artifact, r.sha256, r.size, r.sums, r.signature, r.file, r.importedAt];

export class SqliteUpgrades implements UpgradeRecords {
  readonly #db: Database.Database;
  constructor(db: Database.Database) {
    this.#db = db;
  }

  async putRelease(r: ReleaseRecord): Promise<void> {
    this.#db.transaction(() => {
      this.#db.prepare(UPGRADE_SQL.deleteRelease).run(r.version, r.arch);
      this.#db.prepare(UPGRADE_SQL.insertRelease).run(...releaseArgs(r));
    })();
  }

  async releases(): Promise<ReleaseRecord[]> {
    return (this.#db.prepare(UPGRADE_SQL.releases).all() as Row[]).map(releaseFrom);
  }

  async release(version: string, arch: string): Promise<ReleaseRecord | undefined> {
    const r = this.#db.prepare(UPGRADE_SQL.release).get(version, arch) as Row | undefined;
    return r ? releaseFrom(r) : undefined;
  }

  async deleteVersion(version: string): Promise<number> {
    return this.#db.prepare(UPGRADE_SQL.deleteVersion).run(version).changes;
  }

  async startRollout(r: RolloutRecord, agents: readonly UpgradeAgentRecord[]): Promise<void> {
    this.#db.transaction(() => {
      this.#db.prepare(UPGRADE_SQL.supersede).run(`superseded by the upgrade to ${r.version}`, r.createdAt);
      this.#db.prepare(UPGRADE_SQL.insertRollout).run(...rolloutArgs(r));
      const put = this.#db.prepare(UPGRADE_SQL.putAgent);
      for (const a of agents) put.run(...agentArgs(a));
    })();
  }

  async activeRollout(): Promise<RolloutRecord | undefined> {
    const r = this.#db.prepare(UPGRADE_SQL.active).get() as Row | undefined;
    return r ? rolloutFrom(r) : undefined;
  }

  async latestRollout(): Promise<RolloutRecord | undefined> {
    const r = this.#db.prepare(UPGRADE_SQL.latest).get() as Row | undefined;
    return r ? rolloutFrom(r) : undefined;
  }

  async setRolloutState(id: string, state: RolloutState, message: string, now: number): Promise<void> {
    this.#db.prepare(UPGRADE_SQL.setState).run(state, message, now, id);
  }

  async agents(rolloutId: string): Promise<UpgradeAgentRecord[]> {
    return (this.#db.prepare(UPGRADE_SQL.agents).all(rolloutId) as Row[]).map(agentFrom);
  }

  async putAgent(a: UpgradeAgentRecord): Promise<void> {
    this.#db.prepare(UPGRADE_SQL.putAgent).run(...agentArgs(a));
  }

  async markAssigned(rolloutId: string, agentIds: readonly string[]): Promise<void> {
    const stmt = this.#db.prepare('UPDATE upgrade_agents SET assigned = 1 WHERE rollout_id = ? AND agent_id = ?');
    this.#db.transaction(() => {
      for (const id of agentIds) stmt.run(rolloutId, id);
    })();
  }
}
