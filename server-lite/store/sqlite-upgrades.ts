// SQLite statements for releases and agent upgrade rollouts (migration 7, issue 16); SqliteStore
// exposes an instance as `store.upgrades`.
import type Database from 'better-sqlite3';
import type { ReleaseRecord, RolloutRecord, RolloutState, UpgradeAgentRecord, UpgradeRecords } from '../upgrades/upgrade-records.ts';

type Row = Record<string, unknown>;

const releaseFrom = (r: Row): ReleaseRecord => ({
  version: String(r.version), arch: String(r.arch), artifact: String(r.artifact), sha256: String(r.sha256), size: Number(r.size),
  sums: String(r.sums), signature: String(r.signature), file: String(r.file), importedAt: Number(r.imported_at),
});
const rolloutFrom = (r: Row): RolloutRecord => ({
  id: String(r.id), version: String(r.version), target: String(r.target), maxUnavailable: String(r.max_unavailable), canary: Number(r.canary),
  state: String(r.state) as RolloutState, message: String(r.message), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});
const agentFrom = (r: Row): UpgradeAgentRecord => ({
  rolloutId: String(r.rollout_id), agentId: String(r.agent_id), state: String(r.state) as UpgradeAgentRecord['state'], canary: Number(r.canary) === 1,
  fromVersion: r.from_version === null ? null : String(r.from_version), bytes: Number(r.bytes), total: Number(r.total), message: String(r.message), since: Number(r.since),
});

export class SqliteUpgrades implements UpgradeRecords {
  readonly #db: Database.Database;
  constructor(db: Database.Database) {
    this.#db = db;
  }

  putRelease(r: ReleaseRecord): void {
    this.#db.prepare('DELETE FROM releases WHERE version = ? AND arch = ?').run(r.version, r.arch);
    this.#db
      .prepare('INSERT INTO releases (version, arch, artifact, sha256, size, sums, signature, file, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(r.version, r.arch, r.artifact, r.sha256, r.size, r.sums, r.signature, r.file, r.importedAt);
  }

  releases(): ReleaseRecord[] {
    return (this.#db.prepare('SELECT * FROM releases ORDER BY imported_at, version, arch').all() as Row[]).map(releaseFrom);
  }

  release(version: string, arch: string): ReleaseRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM releases WHERE version = ? AND arch = ?').get(version, arch) as Row | undefined;
    return r ? releaseFrom(r) : undefined;
  }

  startRollout(r: RolloutRecord, agents: readonly UpgradeAgentRecord[]): void {
    this.#db.transaction(() => {
      this.#db.prepare("UPDATE upgrade_rollouts SET state = 'Superseded', message = ?, updated_at = ? WHERE state IN ('Running', 'Halted')").run(`superseded by the upgrade to ${r.version}`, r.createdAt);
      this.#db
        .prepare('INSERT INTO upgrade_rollouts (id, version, target, max_unavailable, canary, state, message, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(r.id, r.version, r.target, r.maxUnavailable, r.canary, r.state, r.message, r.createdAt, r.updatedAt);
      for (const a of agents) this.putAgent(a);
    })();
  }

  activeRollout(): RolloutRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM upgrade_rollouts WHERE state IN ('Running', 'Halted') ORDER BY created_at DESC LIMIT 1").get() as Row | undefined;
    return r ? rolloutFrom(r) : undefined;
  }

  latestRollout(): RolloutRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM upgrade_rollouts ORDER BY created_at DESC LIMIT 1').get() as Row | undefined;
    return r ? rolloutFrom(r) : undefined;
  }

  setRolloutState(id: string, state: RolloutState, message: string, now: number): void {
    this.#db.prepare('UPDATE upgrade_rollouts SET state = ?, message = ?, updated_at = ? WHERE id = ?').run(state, message, now, id);
  }

  agents(rolloutId: string): UpgradeAgentRecord[] {
    return (this.#db.prepare('SELECT * FROM upgrade_agents WHERE rollout_id = ? ORDER BY agent_id').all(rolloutId) as Row[]).map(agentFrom);
  }

  putAgent(a: UpgradeAgentRecord): void {
    // One statement (one commit); ON CONFLICT … DO UPDATE is the same in PostgreSQL.
    this.#db
      .prepare(
        `INSERT INTO upgrade_agents (rollout_id, agent_id, state, canary, from_version, bytes, total, message, since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (rollout_id, agent_id) DO UPDATE SET state = excluded.state, canary = excluded.canary, from_version = excluded.from_version,
           bytes = excluded.bytes, total = excluded.total, message = excluded.message, since = excluded.since`,
      )
      .run(a.rolloutId, a.agentId, a.state, a.canary ? 1 : 0, a.fromVersion, a.bytes, a.total, a.message, a.since);
  }
}
