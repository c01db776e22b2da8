// The fleet manager's durable state (decision 0751, issue 17 decision 1100): bundles, their
// per-cluster manifest sets as 1 MiB content-addressed blobs (never one big row), deployments per
// (bundle, cluster), the last status sequence stored per agent (de-duplication), cluster groups,
// git repositories, pushed archives and status history. One asynchronous interface with two
// implementations: SQLite (sqlite-fleet-store.ts, its own fleet.db in the data dir, the default)
// and PostgreSQL (pg-fleet-store.ts, in the database the HA replicas share, on the main store's pool).
import type { TargetCriteria } from './targeting.ts';
import type { ManifestSet } from './manifest-set.ts';
import type { LabelSelector, RolloutStrategy } from './fleet-yaml.ts';

/** History rows kept per bundle. */
export const HISTORY_PER_BUNDLE = 100;

/** One entry of `drover bundle history`: a new revision, or a source that failed to render. */
export interface BundleHistoryRow {
  revision: string | null;
  source: string;
  clusters: number;
  error: { code: string; message: string } | null;
  warnings: number;
  at: number;
}

/** `drover bundle apply` as stored: the archive's options and the bundles it owns. */
export interface PushRow {
  name: string;
  opts: { namespace?: string | undefined; targets?: TargetCriteria[] | undefined; strict?: boolean | undefined };
  bundles: string[];
  /** The clusters-and-groups fingerprint it was last rendered for. */
  fingerprint: string;
  /** sha256 of the archive: a new `bundle apply` of the same name changes it. */
  archive: string;
}

/** Status events kept per agent (the newest); older ones are trimmed as new ones arrive. */
export const STATUS_EVENTS_PER_AGENT = 1000;

export interface StatusEventRow {
  clusterId: string;
  seq: number;
  bundle: string;
  revision: string;
  state: string;
  message: string;
  /** When the agent recorded it (its clock), or null when it did not say. */
  at: string | null;
  /** When the server stored it (ms since the epoch). */
  receivedAt: number;
}

/** What the agent needs besides manifests, plus the server's own rollout options. */
export interface BundleSpec {
  keepResources?: boolean | undefined;
  correctDrift?: boolean | undefined;
  comparePatches?: unknown[] | undefined;
  /** `name` or `selector` (over other bundles' labels), as in fleet.yaml. */
  dependsOn?: { name?: string | undefined; selector?: LabelSelector | undefined; acceptedStates?: string[] | undefined }[] | undefined;
  labels?: Record<string, string> | undefined;
  defaultNamespace?: string | undefined;
  paused?: boolean | undefined;
  rolloutStrategy?: RolloutStrategy | undefined;
  /** Take objects over from other bundles (fleet.yaml helm.takeOwnership). */
  takeOwnership?: boolean | undefined;
  /** What Drover ignored or could not match when it rendered this revision (bundle status shows them). */
  warnings?: string[] | undefined;
}

export interface BundleRow {
  name: string;
  source: string;
  revision: string | null;
  spec: BundleSpec;
  error: { code: string; message: string } | null;
  updatedAt: number;
}

export interface DeploymentRow {
  bundle: string;
  clusterId: string;
  desiredRevision: string | null;
  ackedRevision: string | null;
  appliedRevision: string | null;
  /** The desired revision the agent's last status is about. */
  reportedRevision: string | null;
  state: string | null;
  message: string | null;
  appliedAt: string | null;
}

export interface GitRepoRow {
  name: string;
  spec: {
    repo: string; branch?: string | undefined; revision?: string | undefined; paths?: string[] | undefined; pollIntervalSeconds: number;
    /** Fleet's GitRepo `targets`: `--target` values (selector, cluster=NAME, group=NAME); none = every cluster. */
    targets?: string[] | undefined;
    /** Source credentials by secret name (issue 19; Fleet's GitRepo field names). */
    clientSecretName?: string | undefined;
    helmSecretName?: string | undefined;
    helmRepoURLRegex?: string | undefined;
    insecureSkipTLSVerify?: boolean | undefined;
    caBundle?: string | undefined;
  };
  commit: string | null;
  error: string | null;
  polledAt: number | null;
}


export interface TargetRow {
  bundle: string;
  clusterId: string;
  revision: string;
}

/** One status drained from an agent's outbox (checked by outbox-rows.ts). */
export interface StatusInput {
  seq: number;
  createdAt?: string | undefined;
  status: { bundle: string; revision: string; appliedRevision?: string | undefined; state: string; message: string };
}

export interface QuarantineInput {
  seq: number;
  reason: string;
  raw: string;
}

export interface FleetStore {
  /** 'sqlite' (fleet.db, one process) or 'postgres' (shared by the HA replicas). */
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Changes with every change to what agents should hold (bundles, their specs, assignments): the
   * delivery loop skips an agent whose last delivery saw the current generation. On PostgreSQL it
   * is the shared counter as last read by refresh() or written by this replica.
   */
  readonly generation: number;
  /** Changes whenever new statuses were stored (by any replica): the rollout holder plans again. */
  readonly statusVersion: number;
  /** Re-reads the shared counters (PostgreSQL); nothing to do on SQLite. */
  refresh(): Promise<void>;
  /** Writes still waiting in a group commit are committed (SQLite); resolves when they are. */
  flush(): Promise<void>;
  close(): Promise<void>;

  /** Stores a rendered bundle: its sets as blobs, the per-cluster targets, no error. One transaction. */
  putBundle(name: string, source: string, revision: string, spec: BundleSpec, targets: readonly { clusterId: string; set: ManifestSet }[], now: number): Promise<void>;
  /** Records why the latest source of a bundle failed; its last good revision and targets stay. */
  putBundleError(name: string, source: string, error: { code: string; message: string }, now: number): Promise<void>;
  /** A bundle's history, oldest first. */
  history(bundle: string): Promise<BundleHistoryRow[]>;
  deleteBundle(name: string): Promise<boolean>;
  bundle(name: string): Promise<BundleRow | undefined>;
  bundles(): Promise<BundleRow[]>;
  /** bundle → clusterId → revision the bundle's latest render gives that cluster. */
  targets(bundle?: string): Promise<TargetRow[]>;
  /**
   * Drops manifest sets nothing refers to any more (no target, and no deployment has them desired,
   * acknowledged, applied or reported) and the blobs no remaining set or pushed archive uses.
   */
  collectGarbage(): Promise<{ sets: number; blobs: number; bytes: number }>;
  manifestSet(revision: string): Promise<ManifestSet>;

  deployments(filter?: { bundle?: string | undefined; clusterId?: string | undefined }): Promise<DeploymentRow[]>;
  /** The rollout assigned `revision` to this cluster (not yet delivered). */
  assign(bundle: string, clusterId: string, revision: string, now: number): Promise<void>;
  /** The cluster is no longer targeted: removed from the agent by the next sync. */
  unassign(bundle: string, clusterId: string, now: number): Promise<void>;
  /** A whole rollout plan's assignments in one transaction (10,000 clusters: one commit). */
  applyPlan(assign: readonly TargetRow[], unassign: readonly { bundle: string; clusterId: string }[], now: number): Promise<void>;
  /** The agent stored `revision` durably (group-committed on SQLite). */
  acked(bundle: string, clusterId: string, revision: string | null, now: number): Promise<void>;
  /** The agent refused a revision (invalid manifest set): ErrApplied for it, the old one still held. */
  reportRefusal(bundle: string, clusterId: string, revision: string, message: string, now: number): Promise<void>;
  forgetDeployment(bundle: string, clusterId: string): Promise<void>;

  /**
   * Stores statuses an agent drained from its outbox, in order, skipping every sequence number at
   * or below the last one stored for that agent: a batch sent twice (the ack was lost) counts once.
   * Returns how many were new. Group-committed on SQLite.
   */
  recordStatuses(agentId: string, clusterId: string, rows: readonly StatusInput[], appliedAt: (seq: number) => string | null, now: number, quarantined?: readonly QuarantineInput[]): Promise<number>;
  /** Outbox rows refused for their shape, newest first (operators; tests). */
  quarantinedStatuses(agentId: string): Promise<{ seq: number; clusterId: string; reason: string; raw: string; receivedAt: number }[]>;
  /** A bundle's status events, oldest first: per cluster in the order its agent reported them. */
  statusEvents(bundle: string, opts: { clusterId?: string | undefined; limit: number }): Promise<StatusEventRow[]>;
  lastSeq(agentId: string): Promise<number>;

  putPush(name: string, opts: PushRow['opts'], archive: Uint8Array, bundles: readonly string[], fingerprint: string, now: number): Promise<void>;
  pushes(): Promise<PushRow[]>;
  push(name: string): Promise<PushRow | undefined>;
  pushArchive(name: string): Promise<Buffer>;
  pushRendered(name: string, fingerprint: string, now: number): Promise<void>;
  /** A bundle was deleted: the push that made it no longer owns it (and goes when it owns none). */
  releasePushed(bundle: string): Promise<void>;
  /** A deleted cluster: its targets, deployments, status history and its agents' sequence numbers go. */
  forgetCluster(clusterId: string, agentIds: readonly string[]): Promise<void>;

  putGroup(name: string, selector: LabelSelector, now: number): Promise<void>;
  deleteGroup(name: string): Promise<boolean>;
  groups(): Promise<{ name: string; selector: LabelSelector }[]>;
  putGitRepo(name: string, spec: GitRepoRow['spec'], now: number): Promise<void>;
  gitRepoPolled(name: string, commit: string | null, error: string | null, now: number): Promise<void>;
  deleteGitRepo(name: string): Promise<boolean>;
  gitRepos(): Promise<GitRepoRow[]>;
}
