// The server's persistence boundary. Callers see only this async interface, so the SQLite
// implementation (default) and a PostgreSQL one (HA, later issue) are interchangeable.
// Times are epoch milliseconds; secrets are never stored, only their sha256.

import { AGENT_ROLES } from '../../protocol/index.ts';
import type { UpgradeRecords } from '../upgrades/upgrade-records.ts';
import type { ReplicaStore } from './replica-store.ts';

/** The agent roles, defined once for server and agents (protocol/contracts/roles.ts). */
export const ROLES = AGENT_ROLES;
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

export const GLOBAL_ROLES = ['admin', 'user'] as const;
export type GlobalRole = (typeof GLOBAL_ROLES)[number];
export const CLUSTER_ROLES = ['cluster-owner', 'cluster-member', 'read-only'] as const;
export type ClusterRole = (typeof CLUSTER_ROLES)[number];

export interface UserRecord {
  name: string;
  globalRole: GlobalRole;
  /** scrypt hash (auth/passwords.ts); null: the user has API tokens only. */
  passwordHash: string | null;
  createdAt: number;
}

/** A user's API token `<id>.<secret>`; only sha256(secret) is stored. */
export interface UserTokenRecord {
  id: string;
  userName: string;
  secretHash: string;
  description: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

export const PROJECT_ROLES = ['project-owner', 'project-member', 'read-only'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

/** A named group of namespaces of one cluster, with its own owners and members. */
export interface ProjectRecord {
  name: string;
  clusterId: string;
  namespaces: string[];
  createdAt: number;
}

export interface ProjectBinding {
  userName: string;
  project: string;
  role: ProjectRole;
  createdAt: number;
}

export interface RoleBinding {
  userName: string;
  clusterId: string;
  role: ClusterRole;
  createdAt: number;
  /** Set when the user holds the role through this group binding (listBindings expands them). */
  group?: string;
}

/** A cluster role held by every member of an identity provider's group `PROVIDER:GROUP` (issue 18). */
export interface GroupBinding {
  group: string;
  clusterId: string;
  role: ClusterRole;
  createdAt: number;
}

/** A configured identity provider; its secret is stored sealed (auth/providers/sealed-value.ts). */
export interface ProviderRecord {
  name: string;
  kind: 'ldap' | 'oidc';
  /** The validated configuration (auth/providers/provider-config.ts), without the secret. */
  config: Record<string, unknown>;
  sealedSecret: string;
  createdAt: number;
}

/** A user who logs in through an identity provider; the users row has the name `PROVIDER:LOGIN`. */
export interface ExternalUserRecord {
  userName: string;
  provider: string;
  /** The name at the provider (LDAP user attribute, OIDC username claim). */
  login: string;
  subject: string;
  /** Qualified group names `PROVIDER:GROUP`, as last read from the provider. */
  groups: string[];
  refreshedAt: number;
  /** OIDC refresh token, sealed; null for LDAP (the service account re-reads groups). */
  sealedRefresh: string | null;
}

/** One audit row: what was asked, by whom, with what result. `hash` chains it to the row before. */
export interface AuditFields {
  at: number;
  user: string;
  /** Identity provider: `local` (users), `admin-token` (the built-in admin), `anonymous`. */
  idp: string;
  clusterId: string | null;
  verb: string;
  path: string;
  status: number;
  latencyMs: number;
  /** The Drover user a global admin acted as (kubectl --as), else absent. */
  impersonated?: string | null;
  /** The identity provider's name for users of LDAP/OIDC providers (idp is then its kind), else absent. */
  provider?: string | null;
}

export interface AuditRecord extends AuditFields {
  seq: number;
  prevHash: string;
  hash: string;
}

/** What `drover cluster delete` asked of the cluster's agents. */
export interface ClusterDeletion {
  keepWorkloads: boolean;
  uninstallAgents: boolean;
  at: number;
  /** Who asked (the audit's user name). */
  by: string;
}

/**
 * An agent of a deleted cluster: its credential hashes are kept only so that, online now or when
 * it next connects, it is told to clean up; the row goes once every role it registered did.
 */
export interface DeletedAgentRecord extends ClusterDeletion {
  agentId: string;
  clusterId: string;
  clusterName: string;
  roles: Role[];
  credentialHash: string;
  prevCredentialHash: string | null;
  cleanedRoles: Role[];
}

/** What a cluster's state needs of each agent (views.ts clusterView): no facts, roles or credentials. */
export type AgentLiveness = Pick<AgentRecord, 'id' | 'clusterId' | 'nodeId' | 'revokedAt' | 'removedAt' | 'lastSeen'>;

/** One agent tunnel's connect or disconnect (connection history, tunnel/connection-log.ts). */
export interface ConnectionEventRecord {
  clusterId: string;
  agentId: string;
  role: Role;
  sessionId: string;
  kind: 'connect' | 'disconnect';
  at: number;
  reason: string;
  remote: string | null;
}

/** Kubernetes facts the cluster agent reports on request (nodes, Warning events). */
export type KubeFacts = Record<string, unknown>;

export interface Store {
  /** Releases and agent upgrade rollouts (issue 16); absent in stores that do not keep them yet. */
  upgrades?: UpgradeRecords;
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
  /** Every agent's liveness columns only (the dashboard's snapshot of 10,000 clusters: parsing
   *  every agent's facts was most of its cost). Optional: callers fall back to listAgents. */
  listAgentLiveness?(): Promise<AgentLiveness[]>;
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
  /**
   * A number that changes whenever a cluster is added or its name or labels change, so callers can
   * reuse what they derived from listClusters() (the fleet's targeting fingerprint) while it holds.
   * Optional: without it callers re-derive every time.
   */
  clustersVersion?(): number;
  /** Merge-patch: a null value removes the label. Returns the updated cluster, or undefined. */
  patchClusterLabels(id: string, patch: Record<string, string | null>): Promise<ClusterRecord | undefined>;
  listNodes(filter?: { clusterId?: string }): Promise<NodeRecord[]>;

  createUser(user: UserRecord): Promise<boolean>;
  getUser(name: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  /** Deletes the user with their tokens and bindings; false when no such user. */
  deleteUser(name: string): Promise<boolean>;
  setPassword(name: string, passwordHash: string): Promise<boolean>;

  createUserToken(token: UserTokenRecord): Promise<void>;
  getUserToken(id: string): Promise<UserTokenRecord | undefined>;
  listUserTokens(userName?: string): Promise<UserTokenRecord[]>;
  revokeUserToken(id: string, now: number): Promise<boolean>;

  /** false when the binding already existed. */
  bindRole(binding: RoleBinding): Promise<boolean>;
  /** false when there was no such binding. */
  unbindRole(userName: string, clusterId: string, role: ClusterRole): Promise<boolean>;
  /** Direct bindings, and those held through group bindings (expanded per member, `group` set). */
  listBindings(filter?: { clusterId?: string; userName?: string }): Promise<RoleBinding[]>;
  /**
   * A number bumped in the same transaction as every write to role and group bindings, group
   * members, projects, project bindings and users (database triggers, decision 1150): unchanged
   * means no such write committed since it was last read, in this process or any other.
   */
  authzGeneration(): Promise<number>;

  createProvider(p: ProviderRecord): Promise<boolean>;
  getProvider(name: string): Promise<ProviderRecord | undefined>;
  listProviders(): Promise<ProviderRecord[]>;
  /** Deletes the provider and every user who logged in through it (with tokens and bindings). */
  deleteProvider(name: string): Promise<{ deleted: boolean; users: string[] }>;
  /** Creates the users row (global role `user`) on first login; replaces identity and groups. */
  saveExternalUser(u: ExternalUserRecord, createdAt: number): Promise<void>;
  getExternalUser(userName: string): Promise<ExternalUserRecord | undefined>;

  bindGroup(b: GroupBinding): Promise<boolean>;
  unbindGroup(group: string, clusterId: string, role: ClusterRole): Promise<boolean>;
  listGroupBindings(filter?: { clusterId?: string }): Promise<GroupBinding[]>;

  /** false when a project of that name exists. */
  createProject(p: ProjectRecord): Promise<boolean>;
  getProject(name: string): Promise<ProjectRecord | undefined>;
  listProjects(filter?: { clusterId?: string }): Promise<ProjectRecord[]>;
  setProjectNamespaces(name: string, namespaces: readonly string[]): Promise<ProjectRecord | undefined>;
  /** Deletes the project with its bindings; false when no such project. */
  deleteProject(name: string): Promise<boolean>;
  /** false when the binding already existed. */
  bindProjectRole(b: ProjectBinding): Promise<boolean>;
  unbindProjectRole(userName: string, project: string, role: ProjectRole): Promise<boolean>;
  listProjectBindings(filter?: { project?: string; userName?: string; clusterId?: string }): Promise<ProjectBinding[]>;

  /**
   * Appends rows whose seq/prevHash/hash the caller computed (audit/audit-writer.ts), in one
   * transaction. Returns the rows as stored: with several writers on one database (PostgreSQL
   * replicas) the store re-chains them after the stored head when another writer appended first.
   */
  appendAudit(rows: readonly AuditRecord[]): Promise<readonly AuditRecord[]>;
  lastAudit(): Promise<AuditRecord | undefined>;
  listAudit(filter?: { afterSeq?: number; limit?: number }): Promise<AuditRecord[]>;

  /**
   * Deletes the cluster with its nodes, agents, role bindings and join tokens in one transaction;
   * its agents move to deleted_agents. Undefined when there is no such cluster.
   */
  deleteCluster(id: string, deletion: ClusterDeletion): Promise<{ agents: DeletedAgentRecord[] } | undefined>;
  getDeletedAgent(agentId: string): Promise<DeletedAgentRecord | undefined>;
  listDeletedAgents(filter?: { clusterId?: string }): Promise<DeletedAgentRecord[]>;
  /** Records roles as cleaned up; the row is dropped once all of them are. Returns the roles left. */
  markCleaned(agentId: string, roles: readonly Role[]): Promise<Role[] | undefined>;

  setKubeFacts(clusterId: string, facts: KubeFacts): Promise<void>;
  getKubeFacts(clusterId: string): Promise<KubeFacts | undefined>;

  /** Connection history (issue 20). Optional: a store without it keeps no history. */
  recordConnectionEvents?(events: readonly ConnectionEventRecord[]): Promise<void>;
  /** A cluster's events, newest first. */
  connectionEvents?(clusterId: string, limit: number): Promise<ConnectionEventRecord[]>;
  /** Drops events before `before`, and past the newest `perCluster` of each of `clusters` (those
   *  that got events since the last prune: no scan of the whole table). */
  pruneConnectionEvents?(before: number, perCluster: number, clusters: readonly string[]): Promise<number>;
  /** The HA tables (replicas, tunnel routes, leases; issue 17). Absent: this store cannot run replicas. */
  readonly replicas?: ReplicaStore;

  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
