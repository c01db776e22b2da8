// The fleet store on SQLite (the default): its own file, fleet.db, in the server's data dir
// (decision 0751), WAL with synchronous FULL, agents' statuses and delivery acknowledgements
// group-committed (decision 0754: after a mass reconnect thousands of commits become dozens).
// The statements are synchronous (better-sqlite3); the FleetStore interface is asynchronous
// because the PostgreSQL implementation is (decision 1100).
import Database from 'better-sqlite3';
import { preparePrivateDatabase } from '../store/private-file.ts';
import { chunkBytes, chunkManifestSet, reassembleBytes, reassembleManifestSet, type ChunkIndex } from './chunks.ts';
import type { ManifestSet } from './manifest-set.ts';
import type { LabelSelector } from './fleet-yaml.ts';
import { FLEET_MIGRATIONS } from './fleet-schema.ts';
import { GroupCommit } from './group-commit.ts';
import { FLEET_SYNC_LIMITS } from './limits.ts';
import {
  HISTORY_PER_BUNDLE, STATUS_EVENTS_PER_AGENT,
  type BundleHistoryRow, type BundleRow, type BundleSpec, type DeploymentRow, type FleetStore, type GitRepoRow, type PushRow,
  type QuarantineInput, type StatusEventRow, type StatusInput, type TargetRow,
} from './fleet-store.ts';

type Row = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const toPush = (r: Row): PushRow => ({
  name: String(r.name), opts: JSON.parse(String(r.opts)) as PushRow['opts'], bundles: JSON.parse(String(r.bundles)) as string[], fingerprint: String(r.fingerprint),
  archive: (JSON.parse(String(r.archive_index)) as ChunkIndex).sha256,
});

export class SqliteFleetStore implements FleetStore {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;
  /**
   * Bumped by every change to what agents should hold (bundles, their specs, assignments): the
   * delivery loop skips an agent whose last delivery saw the current generation.
   */
  generation = 0;
  /** Bumped by every status batch that stored something new (the planner runs again). */
  statusVersion = 0;
  /** Agents' statuses and delivery acknowledgements, each group-committed (decision 0754). */
  readonly #statuses: GroupCommit<{ agentId: string; clusterId: string; rows: readonly StatusInput[]; appliedAt: (seq: number) => string | null; now: number; quarantined: readonly QuarantineInput[] }, number>;
  readonly #acks: GroupCommit<{ bundle: string; clusterId: string; revision: string | null; now: number }, void>;
  /** Prepared once: the delivery loop runs these for every agent every cycle. */
  readonly #stmts = new Map<string, Database.Statement>();

  #stmt(sql: string): Database.Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  constructor(path: string) {
    preparePrivateDatabase(path);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // Statuses the server acknowledges to agents must survive a crash: FULL, as on the agent.
    this.db.pragma('synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS fleet_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const current = (this.#stmt('SELECT MAX(version) AS v FROM fleet_migrations').get() as Row).v as number | null ?? 0;
    for (let v = current + 1; v <= FLEET_MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(FLEET_MIGRATIONS[v - 1] ?? '');
        this.#stmt('INSERT INTO fleet_migrations (version, applied_at) VALUES (?, ?)').run(v, Date.now());
      })();
    }
    this.#statuses = new GroupCommit(this.db, FLEET_SYNC_LIMITS.statusFlushMs, (d) => this.recordStatusesNow(d.agentId, d.clusterId, d.rows, d.appliedAt, d.now, d.quarantined));
    this.#acks = new GroupCommit(this.db, FLEET_SYNC_LIMITS.ackFlushMs, (a) => this.ackedNow(a.bundle, a.clusterId, a.revision, a.now));
  }

  /** Transactions the group commits made (tests, bench). */
  get commits(): { statuses: number; acks: number } {
    return { statuses: this.#statuses.commits, acks: this.#acks.commits };
  }

  async refresh(): Promise<void> {}

  async flush(): Promise<void> {
    this.#acks.flush();
    this.#statuses.flush();
  }

  async close(): Promise<void> {
    this.#acks.flush();
    this.#statuses.flush();
    this.db.close();
  }

  /** Stores a rendered bundle: its sets as blobs, the per-cluster targets, no error. One transaction. */
  async putBundle(name: string, source: string, revision: string, spec: BundleSpec, targets: readonly { clusterId: string; set: ManifestSet }[], now: number): Promise<void> {
    this.generation++;
    const putBlob = this.#stmt('INSERT OR IGNORE INTO fleet_blobs (sha256, bytes) VALUES (?, ?)');
    const putSet = this.#stmt('INSERT OR IGNORE INTO fleet_sets (revision, chunk_index, objects) VALUES (?, ?, ?)');
    const chunked = new Map(targets.map((t) => [t.set.revision, { c: chunkManifestSet(t.set), n: t.set.objects.length }]));
    this.db.transaction(() => {
      const before = this.#stmt('SELECT revision FROM fleet_bundles WHERE name = ?').get(name) as { revision: string | null } | undefined;
      if (before?.revision !== revision) this.#history(name, { revision, source, clusters: new Set(targets.map((t) => t.clusterId)).size, error: null, warnings: spec.warnings?.length ?? 0, at: now });
      for (const { c, n } of chunked.values()) {
        for (const [sha, bytes] of c.blobs) putBlob.run(sha, bytes);
        putSet.run(c.revision, JSON.stringify(c.index), n);
      }
      this.#stmt(`INSERT INTO fleet_bundles (name, source, revision, spec, error_code, error_message, updated_at) VALUES (?, ?, ?, ?, NULL, NULL, ?)
        ON CONFLICT (name) DO UPDATE SET source = excluded.source, revision = excluded.revision, spec = excluded.spec, error_code = NULL, error_message = NULL, updated_at = excluded.updated_at`)
        .run(name, source, revision, JSON.stringify(spec), now);
      this.#stmt('DELETE FROM fleet_targets WHERE bundle = ?').run(name);
      const ins = this.#stmt('INSERT INTO fleet_targets (bundle, cluster_id, revision) VALUES (?, ?, ?)');
      for (const t of targets) ins.run(name, t.clusterId, t.set.revision);
    })();
  }

  /** Records why the latest source of a bundle failed; its last good revision and targets stay. */
  async putBundleError(name: string, source: string, error: { code: string; message: string }, now: number): Promise<void> {
    const before = this.#stmt('SELECT error_code, error_message FROM fleet_bundles WHERE name = ?').get(name) as { error_code: string | null; error_message: string | null } | undefined;
    if (before?.error_code !== error.code || before.error_message !== error.message.slice(0, 4096)) {
      this.#history(name, { revision: null, source, clusters: 0, error, warnings: 0, at: now });
    }
    this.#stmt(`INSERT INTO fleet_bundles (name, source, revision, spec, error_code, error_message, updated_at) VALUES (?, ?, NULL, '{}', ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET error_code = excluded.error_code, error_message = excluded.error_message, updated_at = excluded.updated_at`)
      .run(name, source, error.code, error.message.slice(0, 4096), now);
  }

  #history(bundle: string, h: BundleHistoryRow): void {
    this.#stmt('INSERT INTO fleet_bundle_history (bundle, revision, source, clusters, error_code, error_message, warnings, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(bundle, h.revision, h.source, h.clusters, h.error?.code ?? null, h.error?.message.slice(0, 4096) ?? null, h.warnings, h.at);
    this.#stmt('DELETE FROM fleet_bundle_history WHERE bundle = ? AND id <= (SELECT id FROM fleet_bundle_history WHERE bundle = ? ORDER BY id DESC LIMIT 1 OFFSET ?)')
      .run(bundle, bundle, HISTORY_PER_BUNDLE);
  }

  /** A bundle's history, oldest first. */
  async history(bundle: string): Promise<BundleHistoryRow[]> {
    return (this.#stmt('SELECT * FROM fleet_bundle_history WHERE bundle = ? ORDER BY id').all(bundle) as Row[]).map((r) => ({
      revision: r.revision === null ? null : String(r.revision),
      source: String(r.source),
      clusters: Number(r.clusters),
      error: r.error_code === null ? null : { code: String(r.error_code), message: String(r.error_message ?? '') },
      warnings: Number(r.warnings),
      at: Number(r.at),
    }));
  }

  async deleteBundle(name: string): Promise<boolean> {
    this.generation++;
    return this.db.transaction(() => {
      this.#stmt('DELETE FROM fleet_bundle_history WHERE bundle = ?').run(name);
      this.#stmt('DELETE FROM fleet_targets WHERE bundle = ?').run(name);
      this.#stmt('DELETE FROM fleet_status_events WHERE bundle = ?').run(name);
      return this.#stmt('DELETE FROM fleet_bundles WHERE name = ?').run(name).changes > 0;
    })();
  }

  async bundle(name: string): Promise<BundleRow | undefined> {
    const r = this.#stmt('SELECT * FROM fleet_bundles WHERE name = ?').get(name) as Row | undefined;
    return r ? toBundle(r) : undefined;
  }

  async bundles(): Promise<BundleRow[]> {
    return (this.#stmt('SELECT * FROM fleet_bundles ORDER BY name').all() as Row[]).map(toBundle);
  }

  /** bundle → clusterId → revision the bundle's latest render gives that cluster. */
  async targets(bundle?: string): Promise<TargetRow[]> {
    const rows = (bundle === undefined ? this.#stmt('SELECT * FROM fleet_targets').all() : this.#stmt('SELECT * FROM fleet_targets WHERE bundle = ?').all(bundle)) as Row[];
    return rows.map((r) => ({ bundle: String(r.bundle), clusterId: String(r.cluster_id), revision: String(r.revision) }));
  }

  /**
   * Drops manifest sets nothing refers to any more (no target, and no deployment has them desired,
   * acknowledged, applied or reported: an agent away for a month still holds its revision, which
   * stays as the base of its next delta) and the blobs no remaining set or pushed archive uses.
   * One transaction; returns what went.
   */
  async collectGarbage(): Promise<{ sets: number; blobs: number; bytes: number }> {
    return this.db.transaction(() => {
      const sets = this.#stmt(`DELETE FROM fleet_sets WHERE revision NOT IN (
          SELECT revision FROM fleet_targets
          UNION SELECT desired_revision FROM fleet_deployments WHERE desired_revision IS NOT NULL
          UNION SELECT acked_revision FROM fleet_deployments WHERE acked_revision IS NOT NULL
          UNION SELECT applied_revision FROM fleet_deployments WHERE applied_revision IS NOT NULL
          UNION SELECT reported_revision FROM fleet_deployments WHERE reported_revision IS NOT NULL)`).run().changes;
      const used = new Set<string>();
      for (const text of this.#stmt('SELECT chunk_index FROM fleet_sets UNION ALL SELECT archive_index FROM fleet_pushes').pluck().all() as string[]) {
        for (const c of (JSON.parse(text) as ChunkIndex).chunks) used.add(c.sha256);
      }
      let blobs = 0;
      let bytes = 0;
      const drop = this.#stmt('DELETE FROM fleet_blobs WHERE sha256 = ?');
      for (const b of this.#stmt('SELECT sha256, length(bytes) AS size FROM fleet_blobs').all() as { sha256: string; size: number }[]) {
        if (used.has(b.sha256)) continue;
        drop.run(b.sha256);
        blobs++;
        bytes += b.size;
      }
      return { sets, blobs, bytes };
    })();
  }

  async manifestSet(revision: string): Promise<ManifestSet> {
    const r = this.#stmt('SELECT chunk_index FROM fleet_sets WHERE revision = ?').get(revision) as Row | undefined;
    if (!r) throw new Error(`no manifest set ${revision}`);
    const getBlob = this.#stmt('SELECT bytes FROM fleet_blobs WHERE sha256 = ?').pluck();
    return reassembleManifestSet(revision, JSON.parse(String(r.chunk_index)) as ChunkIndex, (sha) => getBlob.get(sha) as Buffer | undefined);
  }

  async deployments(filter: { bundle?: string | undefined; clusterId?: string | undefined } = {}): Promise<DeploymentRow[]> {
    const rows = this.#stmt('SELECT * FROM fleet_deployments WHERE (? IS NULL OR bundle = ?) AND (? IS NULL OR cluster_id = ?) ORDER BY bundle, cluster_id')
      .all(filter.bundle ?? null, filter.bundle ?? null, filter.clusterId ?? null, filter.clusterId ?? null) as Row[];
    return rows.map((r) => ({
      bundle: String(r.bundle), clusterId: String(r.cluster_id), desiredRevision: str(r.desired_revision), ackedRevision: str(r.acked_revision),
      appliedRevision: str(r.applied_revision), reportedRevision: str(r.reported_revision), state: str(r.state), message: str(r.message), appliedAt: str(r.applied_at),
    }));
  }

  /** The rollout assigned `revision` to this cluster (not yet delivered). */
  async assign(bundle: string, clusterId: string, revision: string, now: number): Promise<void> {
    this.generation++;
    this.#stmt(`INSERT INTO fleet_deployments (bundle, cluster_id, desired_revision, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (bundle, cluster_id) DO UPDATE SET desired_revision = excluded.desired_revision, updated_at = excluded.updated_at`).run(bundle, clusterId, revision, now);
  }

  /** The agent stored `revision` durably: committed with others that arrive within ackFlushMs. */
  acked(bundle: string, clusterId: string, revision: string | null, now: number): Promise<void> {
    return this.#acks.submit({ bundle, clusterId, revision, now });
  }

  ackedNow(bundle: string, clusterId: string, revision: string | null, now: number): void {
    this.#stmt('UPDATE fleet_deployments SET acked_revision = ?, updated_at = ? WHERE bundle = ? AND cluster_id = ?').run(revision, now, bundle, clusterId);
  }

  /** The agent refused a revision (invalid manifest set): ErrApplied for it, the old one still held. */
  async reportRefusal(bundle: string, clusterId: string, revision: string, message: string, now: number): Promise<void> {
    // A pending acknowledgement of an earlier revision must not land after (and over) the refusal.
    this.#acks.flush();
    this.#stmt(`UPDATE fleet_deployments SET acked_revision = ?, reported_revision = ?, state = 'ErrApplied', message = ?, updated_at = ? WHERE bundle = ? AND cluster_id = ?`)
      .run(revision, revision, message.slice(0, 4096), now, bundle, clusterId);
  }

  /** The cluster is no longer targeted: removed from the agent by the next sync. */
  async unassign(bundle: string, clusterId: string, now: number): Promise<void> {
    this.generation++;
    this.#stmt('UPDATE fleet_deployments SET desired_revision = NULL, updated_at = ? WHERE bundle = ? AND cluster_id = ?').run(now, bundle, clusterId);
  }

  async applyPlan(assign: readonly TargetRow[], unassign: readonly { bundle: string; clusterId: string }[], now: number): Promise<void> {
    if (assign.length + unassign.length === 0) return;
    this.generation++;
    const a = this.#stmt(`INSERT INTO fleet_deployments (bundle, cluster_id, desired_revision, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (bundle, cluster_id) DO UPDATE SET desired_revision = excluded.desired_revision, updated_at = excluded.updated_at`);
    const u = this.#stmt('UPDATE fleet_deployments SET desired_revision = NULL, updated_at = ? WHERE bundle = ? AND cluster_id = ?');
    this.db.transaction(() => {
      for (const x of assign) a.run(x.bundle, x.clusterId, x.revision, now);
      for (const x of unassign) u.run(now, x.bundle, x.clusterId);
    })();
  }

  async forgetDeployment(bundle: string, clusterId: string): Promise<void> {
    this.generation++;
    this.#stmt('DELETE FROM fleet_deployments WHERE bundle = ? AND cluster_id = ?').run(bundle, clusterId);
  }

  /**
   * Stores statuses an agent drained from its outbox, in order, skipping every sequence number at
   * or below the last one stored for that agent: a batch sent twice (the ack was lost) counts once.
   * Returns how many were new. Committed with other agents' batches that arrive within statusFlushMs.
   */
  recordStatuses(agentId: string, clusterId: string, rows: readonly StatusInput[], appliedAt: (seq: number) => string | null, now: number, quarantined: readonly QuarantineInput[] = []): Promise<number> {
    return this.#statuses.submit({ agentId, clusterId, rows, appliedAt, now, quarantined });
  }

  /** recordStatuses at once, in its own transaction (or the group commit's savepoint). */
  recordStatusesNow(agentId: string, clusterId: string, rows: readonly StatusInput[], appliedAt: (seq: number) => string | null, now: number, quarantined: readonly QuarantineInput[] = []): number {
    return this.db.transaction(() => {
      const last = (this.#stmt('SELECT last_seq FROM fleet_agent_seq WHERE agent_id = ?').pluck().get(agentId) as number | undefined) ?? 0;
      let fresh = 0;
      let max = last;
      // UPDATE only: a late status about a deployment the server already forgot must not revive it.
      const upd = this.#stmt(`UPDATE fleet_deployments SET applied_revision = ?, reported_revision = ?, state = ?, message = ?,
        applied_at = COALESCE(?, applied_at), updated_at = ? WHERE bundle = ? AND cluster_id = ?`);
      const event = this.#stmt(`INSERT INTO fleet_status_events (agent_id, seq, bundle, cluster_id, revision, state, message, agent_time, received_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      // Quarantined rows take their place in the sequence: stored aside, seq consumed, not counted.
      const quarantine = this.#stmt('INSERT OR IGNORE INTO fleet_status_quarantine (agent_id, seq, cluster_id, reason, raw, received_at) VALUES (?, ?, ?, ?, ?, ?)');
      for (const q of quarantined) {
        if (q.seq <= last) continue;
        quarantine.run(agentId, q.seq, clusterId, q.reason, q.raw, now);
        max = Math.max(max, q.seq);
      }
      const skip = new Set(quarantined.map((q) => q.seq));
      let prev = last;
      for (const r of [...rows].sort((a, b) => a.seq - b.seq)) {
        if (r.seq <= prev || skip.has(r.seq)) continue;
        prev = r.seq;
        const message = r.status.message.slice(0, 4096);
        const known = upd.run(r.status.appliedRevision ?? null, r.status.revision, r.status.state, message, appliedAt(r.seq), now, r.status.bundle, clusterId).changes > 0;
        if (known) event.run(agentId, r.seq, r.status.bundle, clusterId, r.status.revision, r.status.state, message, r.createdAt ?? null, now);
        max = Math.max(max, r.seq);
        fresh++;
      }
      if (fresh > 0) this.#stmt('DELETE FROM fleet_status_events WHERE agent_id = ? AND seq <= ?').run(agentId, max - STATUS_EVENTS_PER_AGENT);
      this.#stmt('INSERT INTO fleet_agent_seq (agent_id, last_seq) VALUES (?, ?) ON CONFLICT (agent_id) DO UPDATE SET last_seq = excluded.last_seq').run(agentId, max);
      if (fresh > 0) this.statusVersion++;
      return fresh;
    })();
  }

  /** Outbox rows refused for their shape, newest first (operators; tests). */
  async quarantinedStatuses(agentId: string): Promise<{ seq: number; clusterId: string; reason: string; raw: string; receivedAt: number }[]> {
    return (this.#stmt('SELECT seq, cluster_id, reason, raw, received_at FROM fleet_status_quarantine WHERE agent_id = ? ORDER BY seq DESC LIMIT 100').all(agentId) as Row[])
      .map((r) => ({ seq: Number(r.seq), clusterId: String(r.cluster_id), reason: String(r.reason), raw: String(r.raw), receivedAt: Number(r.received_at) }));
  }

  /** A bundle's status events, oldest first: per cluster in the order its agent reported them. */
  async statusEvents(bundle: string, opts: { clusterId?: string | undefined; limit: number }): Promise<StatusEventRow[]> {
    const rows = this.#stmt(`SELECT * FROM (SELECT cluster_id, seq, bundle, revision, state, message, agent_time, received_at, agent_id FROM fleet_status_events
      WHERE bundle = ? AND (? IS NULL OR cluster_id = ?) ORDER BY received_at DESC, agent_id, seq DESC LIMIT ?) ORDER BY received_at, agent_id, seq`)
      .all(bundle, opts.clusterId ?? null, opts.clusterId ?? null, opts.limit) as Row[];
    return rows.map((r) => ({
      clusterId: String(r.cluster_id), seq: Number(r.seq), bundle: String(r.bundle), revision: String(r.revision),
      state: String(r.state), message: String(r.message), at: str(r.agent_time), receivedAt: Number(r.received_at),
    }));
  }

  async putPush(name: string, opts: PushRow['opts'], archive: Uint8Array, bundles: readonly string[], fingerprint: string, now: number): Promise<void> {
    const { index, blobs } = chunkBytes(archive);
    const putBlob = this.#stmt('INSERT OR IGNORE INTO fleet_blobs (sha256, bytes) VALUES (?, ?)');
    this.db.transaction(() => {
      for (const [sha, bytes] of blobs) putBlob.run(sha, bytes);
      this.#stmt(`INSERT INTO fleet_pushes (name, opts, archive_index, bundles, fingerprint, updated_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET opts = excluded.opts, archive_index = excluded.archive_index, bundles = excluded.bundles,
        fingerprint = excluded.fingerprint, updated_at = excluded.updated_at`)
        .run(name, JSON.stringify(opts), JSON.stringify(index), JSON.stringify([...bundles].sort()), fingerprint, now);
    })();
  }

  async pushes(): Promise<PushRow[]> {
    return this.#pushes();
  }

  #pushes(): PushRow[] {
    return (this.#stmt('SELECT name, opts, bundles, fingerprint, archive_index FROM fleet_pushes ORDER BY name').all() as Row[]).map(toPush);
  }

  async push(name: string): Promise<PushRow | undefined> {
    const r = this.#stmt('SELECT name, opts, bundles, fingerprint, archive_index FROM fleet_pushes WHERE name = ?').get(name) as Row | undefined;
    return r ? toPush(r) : undefined;
  }

  async pushArchive(name: string): Promise<Buffer> {
    const r = this.#stmt('SELECT archive_index FROM fleet_pushes WHERE name = ?').get(name) as Row | undefined;
    if (!r) throw new Error(`no pushed source ${name}`);
    const getBlob = this.#stmt('SELECT bytes FROM fleet_blobs WHERE sha256 = ?').pluck();
    return reassembleBytes(JSON.parse(String(r.archive_index)) as ChunkIndex, (sha) => getBlob.get(sha) as Buffer | undefined);
  }

  async pushRendered(name: string, fingerprint: string, now: number): Promise<void> {
    this.#stmt('UPDATE fleet_pushes SET fingerprint = ?, updated_at = ? WHERE name = ?').run(fingerprint, now, name);
  }

  /** A bundle was deleted: the push that made it no longer owns it (and goes when it owns none). */
  async releasePushed(bundle: string): Promise<void> {
    this.db.transaction(() => {
      for (const p of this.#pushes()) {
        if (!p.bundles.includes(bundle)) continue;
        const rest = p.bundles.filter((b) => b !== bundle);
        if (rest.length === 0) this.#stmt('DELETE FROM fleet_pushes WHERE name = ?').run(p.name);
        else this.#stmt('UPDATE fleet_pushes SET bundles = ? WHERE name = ?').run(JSON.stringify(rest), p.name);
      }
    })();
  }

  /** A deleted cluster: its targets, deployments, status history and its agents' sequence numbers go. */
  async forgetCluster(clusterId: string, agentIds: readonly string[]): Promise<void> {
    this.db.transaction(() => {
      for (const table of ['fleet_targets', 'fleet_deployments', 'fleet_status_events', 'fleet_status_quarantine']) {
        this.#stmt(`DELETE FROM ${table} WHERE cluster_id = ?`).run(clusterId);
      }
      for (const a of agentIds) this.#stmt('DELETE FROM fleet_agent_seq WHERE agent_id = ?').run(a);
    })();
  }

  async lastSeq(agentId: string): Promise<number> {
    return (this.#stmt('SELECT last_seq FROM fleet_agent_seq WHERE agent_id = ?').pluck().get(agentId) as number | undefined) ?? 0;
  }

  async putGroup(name: string, selector: LabelSelector, now: number): Promise<void> {
    this.#stmt('INSERT INTO fleet_groups (name, selector, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET selector = excluded.selector').run(name, JSON.stringify(selector), now);
  }

  async deleteGroup(name: string): Promise<boolean> {
    return this.#stmt('DELETE FROM fleet_groups WHERE name = ?').run(name).changes > 0;
  }

  async groups(): Promise<{ name: string; selector: LabelSelector }[]> {
    return (this.#stmt('SELECT * FROM fleet_groups ORDER BY name').all() as Row[]).map((r) => ({ name: String(r.name), selector: JSON.parse(String(r.selector)) as LabelSelector }));
  }

  async putGitRepo(name: string, spec: GitRepoRow['spec'], now: number): Promise<void> {
    this.#stmt('INSERT INTO fleet_gitrepos (name, spec, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec').run(name, JSON.stringify(spec), now);
  }

  async gitRepoPolled(name: string, commit: string | null, error: string | null, now: number): Promise<void> {
    this.#stmt('UPDATE fleet_gitrepos SET commit_id = COALESCE(?, commit_id), error = ?, polled_at = ? WHERE name = ?').run(commit, error, now, name);
  }

  async deleteGitRepo(name: string): Promise<boolean> {
    return this.#stmt('DELETE FROM fleet_gitrepos WHERE name = ?').run(name).changes > 0;
  }

  async gitRepos(): Promise<GitRepoRow[]> {
    return (this.#stmt('SELECT * FROM fleet_gitrepos ORDER BY name').all() as Row[]).map((r) => ({
      name: String(r.name), spec: JSON.parse(String(r.spec)) as GitRepoRow['spec'], commit: str(r.commit_id), error: str(r.error),
      polledAt: typeof r.polled_at === 'number' ? r.polled_at : null,
    }));
  }
}

function toBundle(r: Row): BundleRow {
  const code = str(r.error_code);
  return {
    name: String(r.name), source: String(r.source), revision: str(r.revision), spec: JSON.parse(String(r.spec)) as BundleSpec,
    error: code === null ? null : { code, message: str(r.error_message) ?? '' }, updatedAt: Number(r.updated_at),
  };
}
