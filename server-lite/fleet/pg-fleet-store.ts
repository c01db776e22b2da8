// The fleet store on PostgreSQL (issue 17, decision 1100): the same tables as fleet.db, created by
// the server's migration list in the database the HA replicas share, on the main store's pool
// (PgStore.db). Every replica reads and writes the same bundles, gitrepos, cluster groups,
// deployments and statuses. What SQLite gets from one writer PostgreSQL gets from: a row lock on the
// agent's sequence row (two replicas draining one agent store each status once), a shared/exclusive
// advisory lock between blob writers and garbage collection (a blob is never dropped under a set
// being stored), and two shared counters in `fleet_state` (generation, statuses) that each replica
// polls, so a bundle stored through replica A makes replica B look at its agents again.
import type { Arg, PgDb, Row, Sql } from '../store/pg-db.ts';
import { chunkBytes, chunkManifestSet, reassembleBytes, reassembleManifestSet, type ChunkIndex } from './chunks.ts';
import type { ManifestSet } from './manifest-set.ts';
import type { LabelSelector } from './fleet-yaml.ts';
import {
  HISTORY_PER_BUNDLE, STATUS_EVENTS_PER_AGENT,
  type BundleHistoryRow, type BundleRow, type BundleSpec, type DeploymentRow, type FleetStore, type GitRepoRow, type PushRow,
  type QuarantineInput, type StatusEventRow, type StatusInput, type TargetRow,
} from './fleet-store.ts';

/** Advisory lock between blob writers (shared) and garbage collection (exclusive). */
export const FLEET_BLOB_LOCK = 0x44520f01;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number => Number(v);
const buf = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const toBundle = (r: Row): BundleRow => {
  const code = str(r.error_code);
  return {
    name: String(r.name), source: String(r.source), revision: str(r.revision), spec: JSON.parse(String(r.spec)) as BundleSpec,
    error: code === null ? null : { code, message: str(r.error_message) ?? '' }, updatedAt: num(r.updated_at),
  };
};
const toPush = (r: Row): PushRow => ({
  name: String(r.name), opts: JSON.parse(String(r.opts)) as PushRow['opts'], bundles: JSON.parse(String(r.bundles)) as string[], fingerprint: String(r.fingerprint),
  archive: (JSON.parse(String(r.archive_index)) as ChunkIndex).sha256,
});
const toDeployment = (r: Row): DeploymentRow => ({
  bundle: String(r.bundle), clusterId: String(r.cluster_id), desiredRevision: str(r.desired_revision), ackedRevision: str(r.acked_revision),
  appliedRevision: str(r.applied_revision), reportedRevision: str(r.reported_revision), state: str(r.state), message: str(r.message), appliedAt: str(r.applied_at),
});

export class PgFleetStore implements FleetStore {
  readonly kind = 'postgres' as const;
  readonly #db: PgDb;
  generation = 0;
  statusVersion = 0;

  constructor(db: PgDb) {
    this.#db = db;
  }

  /** A store on the shared pool; reads the counters once. The tables come with the server's migrations. */
  static async open(db: PgDb): Promise<PgFleetStore> {
    const s = new PgFleetStore(db);
    await s.refresh();
    return s;
  }

  async refresh(): Promise<void> {
    const r = await this.#db.one('SELECT generation, statuses FROM fleet_state WHERE id = 1');
    if (!r) return;
    this.#saw(num(r.generation), num(r.statuses));
  }

  #saw(generation: number, statuses?: number): void {
    this.generation = Math.max(this.generation, generation);
    if (statuses !== undefined) this.statusVersion = Math.max(this.statusVersion, statuses);
  }

  /** Last statement of a transaction that changed what agents should hold (the row lock is short). */
  async #bump(sql: Sql): Promise<number> {
    return num((await sql.one(`INSERT INTO fleet_state (id, generation, statuses) VALUES (1, 1, 0)
      ON CONFLICT (id) DO UPDATE SET generation = fleet_state.generation + 1 RETURNING generation`))?.generation ?? 0);
  }

  async flush(): Promise<void> {}

  /** The pool belongs to the main store, which closes it. */
  async close(): Promise<void> {}

  async #putBlobs(sql: Sql, blobs: Iterable<[string, Uint8Array]>): Promise<void> {
    for (const [sha, bytes] of blobs) await sql.run('INSERT INTO fleet_blobs (sha256, bytes) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING', [sha, buf(bytes)]);
  }

  async putBundle(name: string, source: string, revision: string, spec: BundleSpec, targets: readonly { clusterId: string; set: ManifestSet }[], now: number): Promise<void> {
    const chunked = new Map(targets.map((t) => [t.set.revision, { c: chunkManifestSet(t.set), n: t.set.objects.length }]));
    const g = await this.#db.tx(async (sql) => {
      await sql.rows('SELECT pg_advisory_xact_lock_shared(?)', [FLEET_BLOB_LOCK]);
      const before = await sql.one('SELECT revision FROM fleet_bundles WHERE name = ? FOR UPDATE', [name]);
      if (str(before?.revision) !== revision) await this.#history(sql, name, { revision, source, clusters: new Set(targets.map((t) => t.clusterId)).size, error: null, warnings: spec.warnings?.length ?? 0, at: now });
      for (const { c, n } of chunked.values()) {
        await this.#putBlobs(sql, c.blobs);
        await sql.run('INSERT INTO fleet_sets (revision, chunk_index, objects) VALUES (?, ?, ?) ON CONFLICT (revision) DO NOTHING', [c.revision, JSON.stringify(c.index), n]);
      }
      await sql.run(`INSERT INTO fleet_bundles (name, source, revision, spec, error_code, error_message, updated_at) VALUES (?, ?, ?, ?, NULL, NULL, ?)
        ON CONFLICT (name) DO UPDATE SET source = excluded.source, revision = excluded.revision, spec = excluded.spec, error_code = NULL, error_message = NULL, updated_at = excluded.updated_at`,
      [name, source, revision, JSON.stringify(spec), now]);
      await sql.run('DELETE FROM fleet_targets WHERE bundle = ?', [name]);
      if (targets.length > 0) {
        await sql.run('INSERT INTO fleet_targets (bundle, cluster_id, revision) SELECT ?::text, c, r FROM unnest(?::text[], ?::text[]) AS x(c, r)',
          [name, targets.map((t) => t.clusterId), targets.map((t) => t.set.revision)]);
      }
      return this.#bump(sql);
    });
    this.#saw(g);
  }

  async putBundleError(name: string, source: string, error: { code: string; message: string }, now: number): Promise<void> {
    const message = error.message.slice(0, 4096);
    await this.#db.tx(async (sql) => {
      const before = await sql.one('SELECT error_code, error_message FROM fleet_bundles WHERE name = ? FOR UPDATE', [name]);
      if (str(before?.error_code) !== error.code || str(before?.error_message) !== message) {
        await this.#history(sql, name, { revision: null, source, clusters: 0, error, warnings: 0, at: now });
      }
      await sql.run(`INSERT INTO fleet_bundles (name, source, revision, spec, error_code, error_message, updated_at) VALUES (?, ?, NULL, '{}', ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET error_code = excluded.error_code, error_message = excluded.error_message, updated_at = excluded.updated_at`,
      [name, source, error.code, message, now]);
    });
  }

  async #history(sql: Sql, bundle: string, h: BundleHistoryRow): Promise<void> {
    await sql.run('INSERT INTO fleet_bundle_history (bundle, revision, source, clusters, error_code, error_message, warnings, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [bundle, h.revision, h.source, h.clusters, h.error?.code ?? null, h.error?.message.slice(0, 4096) ?? null, h.warnings, h.at]);
    await sql.run('DELETE FROM fleet_bundle_history WHERE bundle = ? AND id <= (SELECT id FROM fleet_bundle_history WHERE bundle = ? ORDER BY id DESC LIMIT 1 OFFSET ?)',
      [bundle, bundle, HISTORY_PER_BUNDLE]);
  }

  async history(bundle: string): Promise<BundleHistoryRow[]> {
    return (await this.#db.rows('SELECT * FROM fleet_bundle_history WHERE bundle = ? ORDER BY id', [bundle])).map((r) => ({
      revision: str(r.revision),
      source: String(r.source),
      clusters: num(r.clusters),
      error: r.error_code === null ? null : { code: String(r.error_code), message: String(r.error_message ?? '') },
      warnings: num(r.warnings),
      at: num(r.at),
    }));
  }

  async deleteBundle(name: string): Promise<boolean> {
    const { gone, g } = await this.#db.tx(async (sql) => {
      await sql.run('DELETE FROM fleet_bundle_history WHERE bundle = ?', [name]);
      await sql.run('DELETE FROM fleet_targets WHERE bundle = ?', [name]);
      await sql.run('DELETE FROM fleet_status_events WHERE bundle = ?', [name]);
      const n = await sql.run('DELETE FROM fleet_bundles WHERE name = ?', [name]);
      return { gone: n > 0, g: await this.#bump(sql) };
    });
    this.#saw(g);
    return gone;
  }

  async bundle(name: string): Promise<BundleRow | undefined> {
    const r = await this.#db.one('SELECT * FROM fleet_bundles WHERE name = ?', [name]);
    return r ? toBundle(r) : undefined;
  }

  async bundles(): Promise<BundleRow[]> {
    return (await this.#db.rows('SELECT * FROM fleet_bundles ORDER BY name')).map(toBundle);
  }

  async targets(bundle?: string): Promise<TargetRow[]> {
    const rows = bundle === undefined ? await this.#db.rows('SELECT * FROM fleet_targets') : await this.#db.rows('SELECT * FROM fleet_targets WHERE bundle = ?', [bundle]);
    return rows.map((r) => ({ bundle: String(r.bundle), clusterId: String(r.cluster_id), revision: String(r.revision) }));
  }

  async collectGarbage(): Promise<{ sets: number; blobs: number; bytes: number }> {
    return this.#db.tx(async (sql) => {
      // Exclusive: no set or archive is being stored while we decide which blobs nothing uses.
      await sql.rows('SELECT pg_advisory_xact_lock(?)', [FLEET_BLOB_LOCK]);
      const sets = await sql.run(`DELETE FROM fleet_sets WHERE revision NOT IN (
          SELECT revision FROM fleet_targets
          UNION SELECT desired_revision FROM fleet_deployments WHERE desired_revision IS NOT NULL
          UNION SELECT acked_revision FROM fleet_deployments WHERE acked_revision IS NOT NULL
          UNION SELECT applied_revision FROM fleet_deployments WHERE applied_revision IS NOT NULL
          UNION SELECT reported_revision FROM fleet_deployments WHERE reported_revision IS NOT NULL)`);
      const used = new Set<string>();
      for (const r of await sql.rows('SELECT chunk_index AS i FROM fleet_sets UNION ALL SELECT archive_index AS i FROM fleet_pushes')) {
        for (const c of (JSON.parse(String(r.i)) as ChunkIndex).chunks) used.add(c.sha256);
      }
      const drop: string[] = [];
      let bytes = 0;
      for (const b of await sql.rows('SELECT sha256, octet_length(bytes) AS size FROM fleet_blobs')) {
        if (used.has(String(b.sha256))) continue;
        drop.push(String(b.sha256));
        bytes += num(b.size);
      }
      if (drop.length > 0) await sql.run('DELETE FROM fleet_blobs WHERE sha256 = ANY(?)', [drop]);
      return { sets, blobs: drop.length, bytes };
    });
  }

  /** The blobs of an index, fetched in one query. */
  async #blobs(index: ChunkIndex): Promise<Map<string, Buffer>> {
    const shas = [...new Set(index.chunks.map((c) => c.sha256))];
    const rows = shas.length === 0 ? [] : await this.#db.rows('SELECT sha256, bytes FROM fleet_blobs WHERE sha256 = ANY(?)', [shas]);
    return new Map(rows.map((r) => [String(r.sha256), r.bytes as Buffer]));
  }

  async manifestSet(revision: string): Promise<ManifestSet> {
    const r = await this.#db.one('SELECT chunk_index FROM fleet_sets WHERE revision = ?', [revision]);
    if (!r) throw new Error(`no manifest set ${revision}`);
    const index = JSON.parse(String(r.chunk_index)) as ChunkIndex;
    const blobs = await this.#blobs(index);
    return reassembleManifestSet(revision, index, (sha) => blobs.get(sha));
  }

  async deployments(filter: { bundle?: string | undefined; clusterId?: string | undefined } = {}): Promise<DeploymentRow[]> {
    const where: string[] = [];
    const args: Arg[] = [];
    if (filter.bundle !== undefined) {
      where.push('bundle = ?');
      args.push(filter.bundle);
    }
    if (filter.clusterId !== undefined) {
      where.push('cluster_id = ?');
      args.push(filter.clusterId);
    }
    const rows = await this.#db.rows(`SELECT * FROM fleet_deployments${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY bundle, cluster_id`, args);
    return rows.map(toDeployment);
  }

  async assign(bundle: string, clusterId: string, revision: string, now: number): Promise<void> {
    await this.applyPlan([{ bundle, clusterId, revision }], [], now);
  }

  async unassign(bundle: string, clusterId: string, now: number): Promise<void> {
    await this.applyPlan([], [{ bundle, clusterId }], now);
  }

  async applyPlan(assign: readonly TargetRow[], unassign: readonly { bundle: string; clusterId: string }[], now: number): Promise<void> {
    if (assign.length + unassign.length === 0) return;
    const g = await this.#db.tx(async (sql) => {
      // Arrays, not a statement per row: a rollout to 10,000 clusters is two statements.
      if (assign.length > 0) {
        await sql.run(`INSERT INTO fleet_deployments (bundle, cluster_id, desired_revision, updated_at)
          SELECT b, c, r, ?::bigint FROM unnest(?::text[], ?::text[], ?::text[]) AS x(b, c, r)
          ON CONFLICT (bundle, cluster_id) DO UPDATE SET desired_revision = excluded.desired_revision, updated_at = excluded.updated_at`,
        [now, assign.map((a) => a.bundle), assign.map((a) => a.clusterId), assign.map((a) => a.revision)]);
      }
      if (unassign.length > 0) {
        await sql.run(`UPDATE fleet_deployments d SET desired_revision = NULL, updated_at = ?::bigint
          FROM unnest(?::text[], ?::text[]) AS x(b, c) WHERE d.bundle = x.b AND d.cluster_id = x.c`,
        [now, unassign.map((a) => a.bundle), unassign.map((a) => a.clusterId)]);
      }
      return this.#bump(sql);
    });
    this.#saw(g);
  }

  async acked(bundle: string, clusterId: string, revision: string | null, now: number): Promise<void> {
    await this.#db.run('UPDATE fleet_deployments SET acked_revision = ?, updated_at = ? WHERE bundle = ? AND cluster_id = ?', [revision, now, bundle, clusterId]);
  }

  async reportRefusal(bundle: string, clusterId: string, revision: string, message: string, now: number): Promise<void> {
    await this.#db.run(`UPDATE fleet_deployments SET acked_revision = ?, reported_revision = ?, state = 'ErrApplied', message = ?, updated_at = ? WHERE bundle = ? AND cluster_id = ?`,
      [revision, revision, message.slice(0, 4096), now, bundle, clusterId]);
  }

  async forgetDeployment(bundle: string, clusterId: string): Promise<void> {
    const g = await this.#db.tx(async (sql) => {
      await sql.run('DELETE FROM fleet_deployments WHERE bundle = ? AND cluster_id = ?', [bundle, clusterId]);
      return this.#bump(sql);
    });
    this.#saw(g);
  }

  async recordStatuses(agentId: string, clusterId: string, rows: readonly StatusInput[], appliedAt: (seq: number) => string | null, now: number, quarantined: readonly QuarantineInput[] = []): Promise<number> {
    const { fresh, statuses } = await this.#db.tx(async (sql) => {
      // The agent's row, locked: an agent that moved to another replica mid-drain is stored once.
      await sql.run('INSERT INTO fleet_agent_seq (agent_id, last_seq) VALUES (?, 0) ON CONFLICT (agent_id) DO NOTHING', [agentId]);
      const last = num((await sql.one('SELECT last_seq FROM fleet_agent_seq WHERE agent_id = ? FOR UPDATE', [agentId]))?.last_seq ?? 0);
      let fresh = 0;
      let max = last;
      for (const q of quarantined) {
        if (q.seq <= last) continue;
        await sql.run('INSERT INTO fleet_status_quarantine (agent_id, seq, cluster_id, reason, raw, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (agent_id, seq) DO NOTHING',
          [agentId, q.seq, clusterId, q.reason, q.raw, now]);
        max = Math.max(max, q.seq);
      }
      const skip = new Set(quarantined.map((q) => q.seq));
      let prev = last;
      for (const r of [...rows].sort((a, b) => a.seq - b.seq)) {
        if (r.seq <= prev || skip.has(r.seq)) continue;
        prev = r.seq;
        const message = r.status.message.slice(0, 4096);
        // UPDATE only: a late status about a deployment the server already forgot must not revive it.
        const known = (await sql.run(`UPDATE fleet_deployments SET applied_revision = ?, reported_revision = ?, state = ?, message = ?,
          applied_at = COALESCE(?, applied_at), updated_at = ? WHERE bundle = ? AND cluster_id = ?`,
        [r.status.appliedRevision ?? null, r.status.revision, r.status.state, message, appliedAt(r.seq), now, r.status.bundle, clusterId])) > 0;
        if (known) {
          await sql.run(`INSERT INTO fleet_status_events (agent_id, seq, bundle, cluster_id, revision, state, message, agent_time, received_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [agentId, r.seq, r.status.bundle, clusterId, r.status.revision, r.status.state, message, r.createdAt ?? null, now]);
        }
        max = Math.max(max, r.seq);
        fresh++;
      }
      if (fresh > 0) await sql.run('DELETE FROM fleet_status_events WHERE agent_id = ? AND seq <= ?', [agentId, max - STATUS_EVENTS_PER_AGENT]);
      await sql.run('UPDATE fleet_agent_seq SET last_seq = ? WHERE agent_id = ?', [max, agentId]);
      const statuses = fresh > 0 ? num((await sql.one(`INSERT INTO fleet_state (id, generation, statuses) VALUES (1, 0, 1)
        ON CONFLICT (id) DO UPDATE SET statuses = fleet_state.statuses + 1 RETURNING statuses`))?.statuses ?? 0) : undefined;
      return { fresh, statuses };
    });
    if (statuses !== undefined) this.statusVersion = Math.max(this.statusVersion, statuses);
    return fresh;
  }

  async quarantinedStatuses(agentId: string): Promise<{ seq: number; clusterId: string; reason: string; raw: string; receivedAt: number }[]> {
    return (await this.#db.rows('SELECT seq, cluster_id, reason, raw, received_at FROM fleet_status_quarantine WHERE agent_id = ? ORDER BY seq DESC LIMIT 100', [agentId]))
      .map((r) => ({ seq: num(r.seq), clusterId: String(r.cluster_id), reason: String(r.reason), raw: String(r.raw), receivedAt: num(r.received_at) }));
  }

  async statusEvents(bundle: string, opts: { clusterId?: string | undefined; limit: number }): Promise<StatusEventRow[]> {
    const byCluster = opts.clusterId === undefined ? '' : ' AND cluster_id = ?';
    const args: Arg[] = opts.clusterId === undefined ? [bundle, opts.limit] : [bundle, opts.clusterId, opts.limit];
    const rows = await this.#db.rows(`SELECT * FROM (SELECT cluster_id, seq, bundle, revision, state, message, agent_time, received_at, agent_id FROM fleet_status_events
      WHERE bundle = ?${byCluster} ORDER BY received_at DESC, agent_id, seq DESC LIMIT ?) AS e ORDER BY received_at, agent_id, seq`, args);
    return rows.map((r) => ({
      clusterId: String(r.cluster_id), seq: num(r.seq), bundle: String(r.bundle), revision: String(r.revision),
      state: String(r.state), message: String(r.message), at: str(r.agent_time), receivedAt: num(r.received_at),
    }));
  }

  async lastSeq(agentId: string): Promise<number> {
    return num((await this.#db.one('SELECT last_seq FROM fleet_agent_seq WHERE agent_id = ?', [agentId]))?.last_seq ?? 0);
  }

  async putPush(name: string, opts: PushRow['opts'], archive: Uint8Array, bundles: readonly string[], fingerprint: string, now: number): Promise<void> {
    const { index, blobs } = chunkBytes(archive);
    await this.#db.tx(async (sql) => {
      await sql.rows('SELECT pg_advisory_xact_lock_shared(?)', [FLEET_BLOB_LOCK]);
      await this.#putBlobs(sql, blobs);
      await sql.run(`INSERT INTO fleet_pushes (name, opts, archive_index, bundles, fingerprint, updated_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET opts = excluded.opts, archive_index = excluded.archive_index, bundles = excluded.bundles,
        fingerprint = excluded.fingerprint, updated_at = excluded.updated_at`,
      [name, JSON.stringify(opts), JSON.stringify(index), JSON.stringify([...bundles].sort()), fingerprint, now]);
    });
  }

  async pushes(): Promise<PushRow[]> {
    return (await this.#db.rows('SELECT name, opts, bundles, fingerprint, archive_index FROM fleet_pushes ORDER BY name')).map(toPush);
  }

  async push(name: string): Promise<PushRow | undefined> {
    const r = await this.#db.one('SELECT name, opts, bundles, fingerprint, archive_index FROM fleet_pushes WHERE name = ?', [name]);
    return r ? toPush(r) : undefined;
  }

  async pushArchive(name: string): Promise<Buffer> {
    const r = await this.#db.one('SELECT archive_index FROM fleet_pushes WHERE name = ?', [name]);
    if (!r) throw new Error(`no pushed source ${name}`);
    const index = JSON.parse(String(r.archive_index)) as ChunkIndex;
    const blobs = await this.#blobs(index);
    return reassembleBytes(index, (sha) => blobs.get(sha));
  }

  async pushRendered(name: string, fingerprint: string, now: number): Promise<void> {
    await this.#db.run('UPDATE fleet_pushes SET fingerprint = ?, updated_at = ? WHERE name = ?', [fingerprint, now, name]);
  }

  async releasePushed(bundle: string): Promise<void> {
    await this.#db.tx(async (sql) => {
      for (const p of (await sql.rows('SELECT name, opts, bundles, fingerprint, archive_index FROM fleet_pushes ORDER BY name FOR UPDATE')).map(toPush)) {
        if (!p.bundles.includes(bundle)) continue;
        const rest = p.bundles.filter((b) => b !== bundle);
        if (rest.length === 0) await sql.run('DELETE FROM fleet_pushes WHERE name = ?', [p.name]);
        else await sql.run('UPDATE fleet_pushes SET bundles = ? WHERE name = ?', [JSON.stringify(rest), p.name]);
      }
    });
  }

  async forgetCluster(clusterId: string, agentIds: readonly string[]): Promise<void> {
    const g = await this.#db.tx(async (sql) => {
      for (const table of ['fleet_targets', 'fleet_deployments', 'fleet_status_events', 'fleet_status_quarantine']) {
        await sql.run(`DELETE FROM ${table} WHERE cluster_id = ?`, [clusterId]);
      }
      if (agentIds.length > 0) await sql.run('DELETE FROM fleet_agent_seq WHERE agent_id = ANY(?)', [agentIds]);
      return this.#bump(sql);
    });
    this.#saw(g);
  }

  async putGroup(name: string, selector: LabelSelector, now: number): Promise<void> {
    await this.#db.run('INSERT INTO fleet_groups (name, selector, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET selector = excluded.selector', [name, JSON.stringify(selector), now]);
  }

  async deleteGroup(name: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM fleet_groups WHERE name = ?', [name])) > 0;
  }

  async groups(): Promise<{ name: string; selector: LabelSelector }[]> {
    return (await this.#db.rows('SELECT * FROM fleet_groups ORDER BY name')).map((r) => ({ name: String(r.name), selector: JSON.parse(String(r.selector)) as LabelSelector }));
  }

  async putGitRepo(name: string, spec: GitRepoRow['spec'], now: number): Promise<void> {
    await this.#db.run('INSERT INTO fleet_gitrepos (name, spec, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec', [name, JSON.stringify(spec), now]);
  }

  async gitRepoPolled(name: string, commit: string | null, error: string | null, now: number): Promise<void> {
    await this.#db.run('UPDATE fleet_gitrepos SET commit_id = COALESCE(?, commit_id), error = ?, polled_at = ? WHERE name = ?', [commit, error, now, name]);
  }

  async deleteGitRepo(name: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM fleet_gitrepos WHERE name = ?', [name])) > 0;
  }

  async gitRepos(): Promise<GitRepoRow[]> {
    return (await this.#db.rows('SELECT * FROM fleet_gitrepos ORDER BY name')).map((r) => ({
      name: String(r.name), spec: JSON.parse(String(r.spec)) as GitRepoRow['spec'], commit: str(r.commit_id), error: str(r.error),
      polledAt: r.polled_at === null || r.polled_at === undefined ? null : num(r.polled_at),
    }));
  }
}
