// What the HA replicas keep in the shared database (issue 17): which replicas are alive (one
// heartbeat row each), which replica holds which agent's tunnel (one row per agent and role,
// newest wins by `since`, the epoch bumped on every takeover) and the leases of the singletons.
// Liveness is per replica, not per tunnel: 10,000 tunnels on a replica cost one heartbeat write
// per interval; a tunnel row counts only while its replica's heartbeat is fresh.
import type { Role } from './store.ts';

export interface ReplicaRecord {
  id: string;
  /** HOST:PORT other replicas dial (mutually authenticated TLS, server CA). */
  address: string;
  startedAt: number;
  heartbeatAt: number;
}

export interface ReplicaSessionRow {
  agentId: string;
  role: Role;
  clusterId: string;
  nodeId: string;
  replicaId: string;
  sessionId: string;
  since: number;
}

/** A tunnel held by a live replica, with where to reach that replica. */
export interface SessionRoute extends ReplicaSessionRow {
  epoch: number;
  address: string;
}

export interface LeaseRecord {
  name: string;
  holder: string;
  expiresAt: number;
  /** Bumped whenever the holder changes (a fencing number for whoever acts under the lease). */
  epoch: number;
}

export interface ReplicaStore {
  /** Creates or refreshes this replica's row (address may change on restart). */
  heartbeatReplica(r: ReplicaRecord): Promise<void>;
  listReplicas(): Promise<ReplicaRecord[]>;
  /** Deletes replicas whose heartbeat is older than `before`, with their tunnel rows; returns their ids. */
  expireReplicas(before: number): Promise<string[]>;
  /** Clean shutdown: the replica's row and its tunnel rows go at once. */
  removeReplica(id: string): Promise<void>;

  /**
   * Upserts tunnel rows in one transaction. Newest wins: a row replaces the stored one only when its
   * `since` is not older; a takeover bumps the epoch. Returns the rows that did not win.
   */
  registerSessions(rows: readonly ReplicaSessionRow[]): Promise<ReplicaSessionRow[]>;
  /** Deletes tunnel rows, each only while it still names that session (a successor's row stays). */
  unregisterSessions(rows: ReadonlyArray<{ agentId: string; role: Role; sessionId: string }>): Promise<void>;
  /** The session ids the store says this replica holds. */
  sessionsOf(replicaId: string): Promise<Array<{ agentId: string; role: Role; sessionId: string }>>;
  /** The newest tunnel of a cluster for a role, on a replica whose heartbeat is not older than `freshAfter`. */
  routeCluster(clusterId: string, role: Role, freshAfter: number): Promise<SessionRoute | undefined>;
  /** The tunnel of one agent for a role, on a live replica. */
  routeAgent(agentId: string, role: Role, freshAfter: number): Promise<SessionRoute | undefined>;
  /** The newest tunnel of a node for a role (node agents: `drover shell`), on a live replica. */
  routeNode(nodeId: string, role: Role, freshAfter: number): Promise<SessionRoute | undefined>;

  /** Every agent with a tunnel on a live replica other than `exceptReplica`, with that replica's heartbeat (status views). */
  remoteAgents(exceptReplica: string, freshAfter: number): Promise<Array<{ agentId: string; replicaId: string; heartbeatAt: number }>>;
  /** Clusters with a tunnel of this role on a live replica other than `exceptReplica` (fleet rollout gates). */
  remoteClusters(role: Role, exceptReplica: string, freshAfter: number): Promise<string[]>;

  /** Takes or renews the lease when free, expired or already ours; true when we hold it now. */
  acquireLease(name: string, holder: string, now: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up (expires it now) if we hold it. */
  releaseLease(name: string, holder: string): Promise<void>;
  getLease(name: string): Promise<LeaseRecord | undefined>;
}
