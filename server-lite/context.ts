// Everything a request handler needs, built once by server.ts: the store, the session registry,
// clock and randomness (injected, so tests control time), limits, metrics and the logger.
import type { Logger } from 'pino';
import type { Clock as TimerClock } from '../protocol/index.ts';
import type { ClusterSync } from './sync/cluster-sync.ts';
import type { HealthPolicy } from './health.ts';
import type { InFlightLimiter } from './load-shedding.ts';
import type { ServerMetrics } from './metrics.ts';
import type { RandomBytes } from './secrets.ts';
import type { AuditWriter } from './audit/audit-writer.ts';
import type { RbacPropagator } from './rbac/propagator.ts';
import type { KubeFactsPoller } from './proxy/kube-facts.ts';
import type { Store } from './store/store.ts';
import type { TlsMaterial } from './tls/tls-material.ts';
import type { LastSeen } from './tunnel/last-seen.ts';
import type { SessionRegistry } from './tunnel/session-registry.ts';
import type { AgentFrameBudgets } from './tunnel/frame-budget.ts';
import type { AccessSync } from './access/access-sync.ts';
import type { TlsService } from './tls/tls-service.ts';
import type { AgentSettingsSync } from './access/agent-settings-sync.ts';
import type { ConnectionLog } from './tunnel/connection-log.ts';
import type { ProviderService } from './auth/providers/provider-service.ts';
import type { HaService } from './ha/ha-service.ts';
import type { HintBus } from './ha/hints.ts';

/** The server's reading of the one Clock (protocol/clock.ts): epoch milliseconds (wallClock,
 *  or a ManualClock / TestClock in tests). Shells that also need timers take the whole Clock. */
export type Clock = Pick<TimerClock, 'now'>;

/** Work pushed to or pulled from cluster agents (its own file: no import circle with the services). */
export type { ClusterSync };

export interface ServerContext {
  store: Store;
  sessions: SessionRegistry;
  lastSeen: LastSeen;
  clock: Clock;
  random: RandomBytes;
  /** A number in [0, 1), for jitter. */
  unit: () => number;
  log: Logger;
  metrics: ServerMetrics;
  tls: TlsMaterial;
  adminTokenHash: string;
  health: HealthPolicy;
  limiters: { registrations: InFlightLimiter; upgrades: InFlightLimiter };
  maxSessions: number;
  /** Our software version, sent in the protocol HELLO. */
  version: string;
  dataDir: string;
  audit: AuditWriter;
  /** RBAC propagation; also in clusterSyncs. */
  rbac: RbacPropagator;
  /** Kubernetes facts pulled from cluster agents; also in clusterSyncs. */
  kubeFacts: KubeFactsPoller;
  clusterSyncs: ClusterSync[];
  /** Local endpoints of clusters (issue 18); also in clusterSyncs. */
  access?: AccessSync;
  /** The serving certificate's renewal, CA rotation and names (issue 18); ctx.tls follows it. */
  serverTls?: TlsService;
  /** Trust bundle and server URL pushed to agents (issue 18). */
  agentSettings?: AgentSettingsSync;
  /** An agent's session said statuses are queued (a heartbeat with `outbox`): the fleet drains it. */
  onOutboxSignal?: (sessionId: string, role: string) => void;
  /** Called after a cluster's rows were deleted (`drover cluster delete`): the fleet forgets it too. */
  onClusterDeleted: ((clusterId: string, agentIds: readonly string[]) => void)[];
  /** Per-agent budget for frames that cost an answer or work (tunnel/frame-budget.ts). */
  frameBudgets: AgentFrameBudgets;
  /** Identity providers (LDAP, OIDC; issue 18). Absent: only local users and the admin token. */
  providers?: ProviderService;
  /** Connection history of agent tunnels, written with the lastSeen flush (issue 20). */
  connections?: ConnectionLog;
  /** HA replica (issue 17, `--advertise-address`): tunnel routes in the database, forwarding, leases. */
  ha?: HaService;
  /** Wake-up hints between replicas (issue 17, ha/hints.ts): notify/on; local only without HA on PostgreSQL. */
  hints?: HintBus;
  /** Set once shutdown begins: /readyz fails and new tunnels are refused. */
  closing: boolean;
}
