// Propagates role bindings to clusters: when a cluster agent connects or a cluster's bindings
// change (kick), PUT the whole desired set to the agent's `http:drover-rbac` target unless the agent
// already acknowledged that set; the agent applies it with server-side apply and prunes what is no
// longer wanted. Whole sets make every push idempotent. Nothing runs on a period: a push that fails
// is retried with exponential backoff and jitter up to a cap, an agent that does not serve the
// target is left alone until it reconnects or the bindings change, and an offline cluster is
// pushed when its agent connects. Each cluster's problem is logged once when it starts and once
// when it ends, never per retry. Decisions 0701 and 0800.
import type { Logger } from 'pino';
import { describeTargetError, RBAC_PATH, rbacAppliedSchema, systemClock, type Clock } from '../../protocol/index.ts';
import type { ClusterSync } from '../sync/cluster-sync.ts';
import { LIMITS } from '../limits.ts';
import type { Store } from '../store/store.ts';
import type { SessionRegistry } from '../tunnel/session-registry.ts';
import { agentJson, AGENT_TARGETS } from '../proxy/agent-request.ts';
import { AgentAnswerError, classifyAgentFailure } from '../proxy/agent-refusal.ts';
import { ClusterScheduler, type WorkOutcome } from '../sync/cluster-scheduler.ts';
import { desiredRbac, rbacHash, type RbacObject } from './desired.ts';

export type PropagationState = 'propagated' | 'pending';

/** What was last logged about a cluster's propagation problem (absent: none). */
type Problem = 'failing' | 'not-served';

export interface RbacPropagatorOptions {
  /** Timers for retries (tests pass a ManualClock). */
  clock?: Clock;
  /** A number in [0, 1), for jitter. */
  random?: () => number;
}

export class RbacPropagator implements ClusterSync {
  readonly #store: Store;
  readonly #sessions: SessionRegistry;
  readonly #log: Logger;
  readonly #scheduler: ClusterScheduler;
  /** clusterId → hash of the set the agent last acknowledged (in memory: after a restart, push again). */
  readonly #applied = new Map<string, string>();
  readonly #problems = new Map<string, Problem>();
  /** HA (issue 17): the cluster has no tunnel here; ask the replica that holds it to push. */
  elsewhere: ((clusterId: string) => void) | undefined;
  /** Completed pushes (tests and metrics). */
  pushes = 0;
  /** Pushes attempted, successful or not (tests and metrics). */
  attempts = 0;

  constructor(store: Store, sessions: SessionRegistry, log: Logger, opts: RbacPropagatorOptions = {}) {
    this.#store = store;
    this.#sessions = sessions;
    this.#log = log.child({ component: 'rbac' });
    this.#scheduler = new ClusterScheduler({
      clock: opts.clock ?? systemClock,
      random: opts.random ?? Math.random,
      backoff: { baseMs: LIMITS.rbacRetryBaseMs, maxMs: LIMITS.rbacRetryMaxMs },
      concurrency: LIMITS.clusterSyncConcurrency,
      run: (id) => this.#push(id),
    });
  }

  /** Nothing periodic to start: pushes follow kicks (kept so callers need not know). */
  start(): void {}

  stop(): void {
    this.#scheduler.stop();
  }

  /**
   * The cluster's agent connected or its bindings changed: push soon, whatever was acknowledged
   * before. A reconnecting agent may have restarted and lost what it keeps in memory (the RoleBinding
   * templates its namespace watch applies to new namespaces), so the set goes again.
   */
  kick(clusterId: string): void {
    this.#applied.delete(clusterId);
    this.#scheduler.kick(clusterId);
  }

  forget(clusterId: string): void {
    this.#applied.delete(clusterId);
    this.#scheduler.forget(clusterId);
  }

  /** Clusters with a push scheduled (retries waiting for their backoff, kicks waiting for a slot). */
  get scheduled(): number {
    return this.#scheduler.scheduled;
  }

  /** Resolves once no push is in flight (tests that step a manual clock). */
  whenIdle(): Promise<void> {
    return this.#scheduler.whenIdle();
  }

  async state(clusterId: string): Promise<PropagationState> {
    const hash = rbacHash(await this.#desired(clusterId));
    return this.#applied.get(clusterId) === hash ? 'propagated' : 'pending';
  }

  /** The cluster's whole set: its cluster role bindings and its projects' bindings. */
  async #desired(clusterId: string): Promise<RbacObject[]> {
    const projects = await this.#store.listProjects({ clusterId });
    const projectBindings = projects.length === 0 ? [] : await this.#store.listProjectBindings({ clusterId });
    return desiredRbac(
      await this.#store.listBindings({ clusterId }),
      projects.map((project) => ({ project, bindings: projectBindings.filter((b) => b.project === project.name) })),
    );
  }

  /** Kicks every connected cluster (operators' "push everything again"). */
  syncAll(): void {
    for (const s of this.#sessions.byRole('cluster')) this.kick(s.clusterId);
  }

  /** One push to one cluster when its desired set differs from the acknowledged one. */
  async #push(clusterId: string): Promise<WorkOutcome> {
    const session = this.#sessions.clusterSession(clusterId);
    // Offline: the connect kick brings it back. HA: the replica holding its tunnel is told instead.
    if (!session) {
      this.elsewhere?.(clusterId);
      return { kind: 'park' };
    }
    const objects = await this.#desired(clusterId);
    const hash = rbacHash(objects);
    if (this.#applied.get(clusterId) === hash) return { kind: 'done' };
    this.attempts++;
    try {
      const { status, json } = await agentJson(session, AGENT_TARGETS.rbac, 'PUT', RBAC_PATH, { objects });
      if (status !== 200) throw new AgentAnswerError(status, describeTargetError(status, json).slice(0, 300));
      // The answer by the contract (protocol/contracts/rbac.ts); a 200 of another shape is no acknowledgement.
      const result = rbacAppliedSchema.safeParse(json);
      if (!result.success) throw new AgentAnswerError(status, `not an RBAC result: ${JSON.stringify(json)?.slice(0, 200)}`);
      this.#applied.set(clusterId, hash);
      this.pushes++;
      const was = this.#problems.get(clusterId);
      this.#problems.delete(clusterId);
      this.#log.info({ clusterId, objects: objects.length, result: result.data, ...(was ? { after: was } : {}) }, 'RBAC propagated');
      return { kind: 'done' };
    } catch (err) {
      const failure = classifyAgentFailure(err);
      const problem: Problem = failure === 'not-served' ? 'not-served' : 'failing';
      if (this.#problems.get(clusterId) !== problem) {
        this.#problems.set(clusterId, problem);
        this.#log.warn(
          { clusterId, err: (err as Error).message },
          problem === 'not-served'
            ? `the cluster agent does not serve ${AGENT_TARGETS.rbac}; RBAC not pushed again until it reconnects or the bindings change`
            : 'RBAC propagation failing; retrying with backoff (logged again when it recovers)',
        );
      }
      return failure === 'not-served' ? { kind: 'park' } : { kind: 'retry' };
    }
  }
}
