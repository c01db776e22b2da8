// The state of one (bundle, cluster) deployment, derived from what the server knows, and the
// summaries `drover bundle status NAME --json` prints. Fleet's states and precedence, plus Offline:
// when the cluster's fleet agent is not connected its last report is stale, so it never shows Ready.

/** Worst first: a summary over several deployments shows the first state present in this list. */
export const STATE_PRECEDENCE = ['Offline', 'ErrApplied', 'WaitApplied', 'Modified', 'OutOfSync', 'Pending', 'NotReady', 'Ready'] as const;
export type DeploymentState = (typeof STATE_PRECEDENCE)[number];

/**
 * What the server knows about one deployment; revisions are manifest-set revision ids. The agent
 * decides Ready, NotReady, Modified or ErrApplied for the revision it applied and reports it; the
 * server only trusts that report for the revision it assigned and acknowledged.
 */
export interface DeploymentObservation {
  /** The cluster's fleet agent has a live tunnel session. */
  connected: boolean;
  /** The revision the rollout planner assigned; undefined while the cluster waits for its turn. */
  desiredRevision?: string | undefined;
  /** The revision the agent has stored durably and acknowledged. */
  ackedRevision?: string | undefined;
  /** The revision the agent's latest status report is about. */
  reportedRevision?: string | undefined;
  /** The state the agent reported for `reportedRevision` (anything unknown counts as ErrApplied). */
  reportedState?: string | undefined;
  /** The agent's message with that report (what is not ready, what drifted, the apply error). */
  message?: string | undefined;
  /** The revision the agent last applied, for the Offline message. */
  appliedRevision?: string | undefined;
}

export interface DerivedState {
  state: DeploymentState;
  message: string;
}

const short = (rev: string | undefined): string => (rev === undefined ? 'none' : rev.slice(0, 12));
const REPORTABLE: readonly string[] = ['Ready', 'NotReady', 'OutOfSync', 'Modified', 'WaitApplied', 'ErrApplied'];

/** The state `bundle status` shows: Offline first, so nothing stale shows Ready. */
export function deploymentState(o: DeploymentObservation): DerivedState {
  if (!o.connected) {
    const last = o.reportedState ? `; last reported ${o.reportedState}` : '';
    return { state: 'Offline', message: `fleet agent not connected${last} at revision ${short(o.appliedRevision)}` };
  }
  if (o.desiredRevision === undefined) return { state: 'Pending', message: 'waiting for its turn in the rollout' };
  if (o.ackedRevision !== o.desiredRevision) {
    return { state: 'OutOfSync', message: `agent has not acknowledged revision ${short(o.desiredRevision)} (has ${short(o.ackedRevision)})` };
  }
  // A report about another revision says nothing about this one.
  if (o.reportedRevision !== o.desiredRevision || o.reportedState === undefined) {
    return { state: 'WaitApplied', message: `revision ${short(o.desiredRevision)} stored, not yet applied` };
  }
  const state = REPORTABLE.includes(o.reportedState) ? (o.reportedState as DeploymentState) : 'ErrApplied';
  return { state, message: o.message ?? '' };
}

/** A fleet-store deployment row (nullable columns) as an observation. */
export function observationOf(
  row: { desiredRevision: string | null; ackedRevision: string | null; reportedRevision: string | null; appliedRevision: string | null; state: string | null; message: string | null },
  connected: boolean,
): DeploymentObservation {
  return {
    connected,
    desiredRevision: row.desiredRevision ?? undefined,
    ackedRevision: row.ackedRevision ?? undefined,
    reportedRevision: row.reportedRevision ?? undefined,
    reportedState: row.state ?? undefined,
    message: row.message ?? undefined,
    appliedRevision: row.appliedRevision ?? undefined,
  };
}

/** The worst of several states (Ready for none: nothing is wrong with an empty set). */
export function worstState(states: Iterable<DeploymentState>): DeploymentState {
  let worst = STATE_PRECEDENCE.length - 1;
  for (const s of states) worst = Math.min(worst, STATE_PRECEDENCE.indexOf(s));
  return STATE_PRECEDENCE[worst] ?? 'Ready';
}

export interface StateSummary {
  ready: number;
  notReady: number;
  waitApplied: number;
  errApplied: number;
  outOfSync: number;
  modified: number;
  pending: number;
  offline: number;
  desiredReady: number;
}

const SUMMARY_KEY = {
  Ready: 'ready',
  NotReady: 'notReady',
  WaitApplied: 'waitApplied',
  ErrApplied: 'errApplied',
  OutOfSync: 'outOfSync',
  Modified: 'modified',
  Pending: 'pending',
  Offline: 'offline',
} as const satisfies Record<DeploymentState, keyof StateSummary>;

export function summarise(states: Iterable<DeploymentState>): StateSummary {
  const s: StateSummary = { ready: 0, notReady: 0, waitApplied: 0, errApplied: 0, outOfSync: 0, modified: 0, pending: 0, offline: 0, desiredReady: 0 };
  for (const state of states) {
    s[SUMMARY_KEY[state]] += 1;
    s.desiredReady += 1;
  }
  return s;
}

/** `drover bundle status NAME --json` (ARCHITECTURE.md §3, contract: fields may be added, never renamed). */
export interface BundleStatus {
  name: string;
  revision: string;
  summary: StateSummary;
  /** Added fields: the cluster's own desired and last applied manifest-set revisions. */
  clusters: {
    id: string;
    /** Added: the cluster's name, when the server knows it. */
    name?: string | undefined;
    state: DeploymentState;
    message: string;
    revision?: string | undefined;
    appliedRevision?: string | undefined;
    /** Added: the rollout holds this cluster at its previous revision, and why. */
    rollout?: { partition: string; reason: 'paused' | 'partition-gate' | 'max-unavailable'; blockedBy?: string[] } | undefined;
  }[];
  /** Added field: why the latest source did not render; `revision` is then still the last good one. */
  error?: { code: string; message: string } | undefined;
  /** Added field: fleet.yaml keys Drover ignored and targets that match no cluster (decision 0803). */
  warnings?: string[] | undefined;
}

export function bundleStatus(
  name: string,
  revision: string,
  deployments: readonly { clusterId: string; observation: DeploymentObservation }[],
  error?: { code: string; message: string },
): BundleStatus {
  const clusters = deployments
    .map((d) => ({ id: d.clusterId, ...deploymentState(d.observation) }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const status: BundleStatus = { name, revision, summary: summarise(clusters.map((c) => c.state)), clusters };
  if (error) status.error = { code: error.code, message: error.message };
  return status;
}

export interface ClusterFleetStatus {
  id: string;
  state: DeploymentState;
  summary: StateSummary;
  bundles: { name: string; state: DeploymentState; message: string; revision?: string | undefined; appliedRevision?: string | undefined }[];
}

/**
 * The per-cluster view of bundle statuses (`drover cluster get`): each cluster's bundles with the
 * very states `drover bundle status` shows, the worst of them and their counts. Clusters targeted by
 * no bundle are absent.
 */
export function byCluster(statuses: readonly BundleStatus[]): Map<string, ClusterFleetStatus> {
  const rows = new Map<string, ClusterFleetStatus['bundles']>();
  for (const b of statuses) {
    for (const c of b.clusters) {
      const list = rows.get(c.id) ?? [];
      list.push({ name: b.name, state: c.state, message: c.message, revision: c.revision, appliedRevision: c.appliedRevision });
      rows.set(c.id, list);
    }
  }
  const out = new Map<string, ClusterFleetStatus>();
  for (const [id, bundles] of [...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    bundles.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const states = bundles.map((x) => x.state);
    out.set(id, { id, state: worstState(states), summary: summarise(states), bundles });
  }
  return out;
}

/** Per cluster: the worst of its bundles' states, and their counts. */
export function clusterStatus(id: string, bundles: readonly { name: string; observation: DeploymentObservation }[]): ClusterFleetStatus {
  const rows = bundles.map((b) => ({ name: b.name, ...deploymentState(b.observation) })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const states = rows.map((r) => r.state);
  return { id, state: worstState(states), summary: summarise(states), bundles: rows };
}
