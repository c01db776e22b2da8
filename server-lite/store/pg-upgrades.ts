// Releases and agent upgrade rollouts on PostgreSQL (decision 1111): the rows of migrations 7 and
// 11 in the server's database, on the main store's pool, with the statements of sqlite-upgrades.ts;
// and the executables' bytes in `release_chunks` (1 MiB rows), so a replica that did not receive
// the import fetches a release from the database instead of from another replica.
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { ReleaseRecord, RolloutRecord, RolloutState, UpgradeAgentRecord, UpgradeRecords } from '../upgrades/upgrade-records.ts';
import type { PgDb, Sql } from './pg-db.ts';
import { agentArgs, agentFrom, releaseArgs, releaseFrom, rolloutArgs, rolloutFrom, UPGRADE_SQL } from './sqlite-upgrades.ts';

/** Rows of an executable in release_chunks: small enough for one parameter, few enough for 120 MiB. */
export const RELEASE_CHUNK_BYTES = 1024 * 1024;

/** Writes one executable's bytes as chunk rows (in the caller's transaction); returns the chunk count. */
export async function insertArtifact(sql: Sql, version: string, arch: string, file: string): Promise<number> {
  let seq = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: RELEASE_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    await sql.run('INSERT INTO release_chunks (version, arch, seq, bytes) VALUES (?, ?, ?, ?)', [version, arch, seq++, chunk]);
  }
  return seq;
}

export class PgUpgrades implements UpgradeRecords {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async putRelease(r: ReleaseRecord): Promise<void> {
    await this.#db.tx(async (sql) => {
      await sql.run(UPGRADE_SQL.deleteRelease, [r.version, r.arch]);
      await sql.run(UPGRADE_SQL.insertRelease, releaseArgs(r));
    });
  }

  async releases(): Promise<ReleaseRecord[]> {
    return (await this.#db.rows(UPGRADE_SQL.releases)).map(releaseFrom);
  }

  async release(version: string, arch: string): Promise<ReleaseRecord | undefined> {
    const r = await this.#db.one(UPGRADE_SQL.release, [version, arch]);
    return r ? releaseFrom(r) : undefined;
  }

  async deleteVersion(version: string): Promise<number> {
    return this.#db.tx(async (sql) => {
      await sql.run('DELETE FROM release_chunks WHERE version = ?', [version]);
      return sql.run(UPGRADE_SQL.deleteVersion, [version]);
    });
  }

  async startRollout(r: RolloutRecord, agents: readonly UpgradeAgentRecord[]): Promise<void> {
    await this.#db.tx(async (sql) => {
      await sql.run(UPGRADE_SQL.supersede, [`superseded by the upgrade to ${r.version}`, r.createdAt]);
      await sql.run(UPGRADE_SQL.insertRollout, rolloutArgs(r));
      for (const a of agents) await sql.run(UPGRADE_SQL.putAgent, agentArgs(a));
    });
  }

  async activeRollout(): Promise<RolloutRecord | undefined> {
    const r = await this.#db.one(UPGRADE_SQL.active);
    return r ? rolloutFrom(r) : undefined;
  }

  async latestRollout(): Promise<RolloutRecord | undefined> {
    const r = await this.#db.one(UPGRADE_SQL.latest);
    return r ? rolloutFrom(r) : undefined;
  }

  async setRolloutState(id: string, state: RolloutState, message: string, now: number): Promise<void> {
    await this.#db.run(UPGRADE_SQL.setState, [state, message, now, id]);
  }

  async agents(rolloutId: string): Promise<UpgradeAgentRecord[]> {
    return (await this.#db.rows(UPGRADE_SQL.agents, [rolloutId])).map(agentFrom);
  }

  async putAgent(a: UpgradeAgentRecord): Promise<void> {
    await this.#db.run(UPGRADE_SQL.putAgent, agentArgs(a));
  }

  async markAssigned(rolloutId: string, agentIds: readonly string[]): Promise<void> {
    if (agentIds.length === 0) return;
    await this.#db.run('UPDATE upgrade_agents SET assigned = 1 WHERE rollout_id = ? AND agent_id = ANY(?::text[])', [rolloutId, agentIds]);
  }

  /** Replaces the stored bytes of one executable, in one transaction (a reader sees all or none). */
  async putArtifact(version: string, arch: string, file: string): Promise<void> {
    await this.#db.tx(async (sql) => {
      await sql.run('DELETE FROM release_chunks WHERE version = ? AND arch = ?', [version, arch]);
      await insertArtifact(sql, version, arch, file);
    });
  }

  async readArtifact(version: string, arch: string, dest: string): Promise<boolean> {
    const count = Number((await this.#db.one('SELECT COUNT(*) AS n FROM release_chunks WHERE version = ? AND arch = ?', [version, arch]))?.n ?? 0);
    if (count === 0) return false;
    const out = createWriteStream(dest, { mode: 0o644 });
    try {
      // One chunk per query: a 120 MiB executable never sits in memory at once.
      for (let seq = 0; seq < count; seq++) {
        const r = await this.#db.one('SELECT bytes FROM release_chunks WHERE version = ? AND arch = ? AND seq = ?', [version, arch, seq]);
        if (!r) throw new Error(`release ${version} ${arch}: chunk ${seq} of ${count} is missing`);
        if (!out.write(r.bytes as Buffer)) await once(out, 'drain');
      }
    } finally {
      out.end();
      await once(out, 'close');
    }
    return true;
  }
}
