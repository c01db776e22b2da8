// The server's persistence boundary. Callers see only this async interface, so the SQLite
// implementation (default) and a PostgreSQL one (HA, later issue) are interchangeable.
// Times are epoch milliseconds; secrets are never stored, only their sha256.

export const ROLES = ['cluster', 'node', 'fleet'] as const;
export type Role = (typeof ROLES)[number];

export type Labels = Record<string, string>;
export type Facts = Record<string, unknown>;

export interface TokenRecord {
  id: string;
  secretHash: string;
  createdAt: number;
  /** null: never expires. */
  expiresAt: number | null;
  /** 0: unlimited. */
  usesMax: number;
  uses: number;
  /** Exactly one of clusterId / labels scopes the token (labels may be empty: a bare new cluster). */
  clusterId: string | null;
  labels: Labels;
  revokedAt: number | null;
}

export interface ClusterRecord {
  id: string;
  name: string;
  labels: Labels;
  createdAt: number;
  kubernetesVersion: string | null;
}

export interface NodeRecord {
  id: string;
  clusterId: string;
  name: string;
  createdAt: number;
  facts: Facts;
  removedAt: number | null;
}

export interface AgentRecord {
  id: string;
  clusterId: string;
  nodeId: string;
  hostname: string;
  roles: Role[];
  credentialHash: string;
  /** The rotated-out credential, accepted once by /v1/agent/rotate (crash between rotate and save). */
  prevCredentialHash: string | null;
  credentialIssuedAt: number;
  credentialExpiresAt: number;
  createdAt: number;
  revokedAt: number | null;
  removedAt: number | null;
  lastSeen: number | null;
  facts: Facts;
}

export interface Enrolment {
  tokenId: string;
  now: number;
  /** Set for a label-scoped token: the cluster created for this device. */
  newCluster: ClusterRecord | null;
  node: NodeRecord;
  agent: AgentRecord;
}

export type EnrolRefusal = 'TOKEN_UNKNOWN' | 'TOKEN_EXPIRED' | 'TOKEN_USED_UP' | 'TOKEN_REVOKED' | 'CLUSTER_NOT_FOUND';
export type EnrolOutcome = { ok: true } | { ok: false; reason: EnrolRefusal };

export interface CredentialUpdate {
  hash: string;
  prevHash: string | null;
  issuedAt: number;
  expiresAt: number;
}

export interface Store {
  createToken(token: TokenRecord): Promise<void>;
  getToken(id: string): Promise<TokenRecord | undefined>;
  listTokens(): Promise<TokenRecord[]>;
  /** false when no such token. */
  revokeToken(id: string, now: number): Promise<boolean>;

  /**
   * Atomically spends one use of the token (re-checking expiry, uses and revocation inside the
   * transaction, so concurrent registrations cannot overspend it) and creates cluster, node and agent.
   */
  enrol(enrolment: Enrolment): Promise<EnrolOutcome>;

  getAgent(id: string): Promise<AgentRecord | undefined>;
  listAgents(filter?: { clusterId?: string }): Promise<AgentRecord[]>;
  setCredential(agentId: string, update: CredentialUpdate): Promise<void>;
  clearPrevCredential(agentId: string): Promise<void>;
  revokeAgent(agentId: string, now: number): Promise<boolean>;
  /** Unregister: the agent and its node are marked removed; the cluster stays. */
  removeAgent(agentId: string, now: number): Promise<boolean>;
  recordFacts(agentId: string, facts: Facts, now: number): Promise<void>;
  /** Batched lastSeen updates (monotonic: an older time never overwrites a newer one). */
  touch(entries: ReadonlyArray<{ agentId: string; at: number }>): Promise<void>;

  getCluster(id: string): Promise<ClusterRecord | undefined>;
  listClusters(): Promise<ClusterRecord[]>;
  /** Merge-patch: a null value removes the label. Returns the updated cluster, or undefined. */
  patchClusterLabels(id: string, patch: Record<string, string | null>): Promise<ClusterRecord | undefined>;
  listNodes(filter?: { clusterId?: string }): Promise<NodeRecord[]>;

  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
