// Pulls the cluster agent's Kubernetes facts (version, nodes with capacity, allocatable and
// conditions, recent Warning events) over `http:drover-facts` when it connects, on `cluster get`
// (refreshWithin), and in the background every LIMITS.kubeFactsIntervalMs with jitter per cluster,
// and keeps the latest in the store so `cluster get` shows them while the cluster is offline too.
// (The protocol's `facts` message is fixed-shape and small; this needs no new control-message
// kind.) Failures back off; an agent that does not serve the target is asked again only when it
// reconnects (decision 0800), so idle clusters cost no timer each.
import type { Logger } from 'pino';
import { describeTargetError, FACTS_PATH, kubeFactsSchema, systemClock, type Clock } from '../../protocol/index.ts';
import type { ClusterSync } from '../sync/cluster-sync.ts';
import { LIMITS } from '../limits.ts';
import type { Store } from '../store/store.ts';
import type { SessionHandle, SessionRegistry } from '../tunnel/session-registry.ts';
import { ClusterScheduler, type WorkOutcome } from '../sync/cluster-scheduler.ts';
import { agentJson, AGENT_TARGETS } from './agent-request.ts';
import { AgentAnswerError, classifyAgentFailure } from './agent-refusal.ts';

export interface KubeFactsOptions {
  /** Timers for the background refresh and retries (tests pass a ManualClock). */
  clock?: Clock;
  /** A number in [0, 1), for jitter. */
  random?: () => number;
}

export class KubeFactsPoller implements ClusterSync {
  readonly #store: Store;
  readonly #sessions: SessionRegistry;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #inFlight = new Map<string, Promise<WorkOutcome>>();
  readonly #scheduler: ClusterScheduler;
  /** HA (issue 17): the cluster's tunnel on another replica, for pulls on read (`cluster get` through any replica). */
  remote: ((clusterId: string) => Promise<SessionHandle | undefined>) | undefined;

  constructor(store: Store, sessions: SessionRegistry, log: Logger, now: () => number, opts: KubeFactsOptions = {}) {
    this.#store = store;
    this.#sessions = sessions;
    this.#log = log.child({ component: 'kube-facts' });
    this.#now = now;
    this.#random = opts.random ?? Math.random;
    this.#scheduler = new ClusterScheduler({
      clock: opts.clock ?? systemClock,
      random: this.#random,
      backoff: { baseMs: LIMITS.kubeFactsRetryBaseMs, maxMs: LIMITS.kubeFactsIntervalMs },
      concurrency: LIMITS.clusterSyncConcurrency,
      run: (id) => this.#pull(id),
    });
  }

  /** Nothing periodic to start: each cluster's refresh is scheduled after its last pull. */
  start(): void {}

  stop(): void {
    this.#scheduler.stop();
  }

  kick(clusterId: string): void {
    this.#scheduler.kick(clusterId);
  }

  forget(clusterId: string): void {
    this.#scheduler.forget(clusterId);
  }

  /** Clusters with a pull scheduled. */
  get scheduled(): number {
    return this.#scheduler.scheduled;
  }

  /** Refreshes, but resolves after `ms` at the latest (the refresh goes on in the background). */
  async refreshWithin(clusterId: string, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.refresh(clusterId), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** Pulls now (one pull per cluster at a time). */
  async refresh(clusterId: string): Promise<void> {
    await this.#pull(clusterId, true);
  }

  #pull(clusterId: string, onRead = false): Promise<WorkOutcome> {
    let p = this.#inFlight.get(clusterId);
    if (p === undefined) {
      p = this.#pullOnce(clusterId, onRead).finally(() => this.#inFlight.delete(clusterId));
      this.#inFlight.set(clusterId, p);
    }
    return p;
  }

  async #pullOnce(clusterId: string, onRead: boolean): Promise<WorkOutcome> {
    // Background pulls stay with the replica holding the tunnel; a read through another one asks there.
    const session = this.#sessions.clusterSession(clusterId) ?? (onRead ? await this.remote?.(clusterId) : undefined);
    if (!session) return { kind: 'park' };
    try {
      const { status, json } = await agentJson(session, AGENT_TARGETS.facts, 'GET', FACTS_PATH);
      if (status !== 200) throw new AgentAnswerError(status, describeTargetError(status, json));
      // Parsed with the contract the agent answers by (protocol/contracts/facts.ts): only its fields are stored.
      const facts = kubeFactsSchema.safeParse(json);
      if (!facts.success) throw new AgentAnswerError(status, `facts not in the expected shape: ${facts.error.issues[0]?.path.join('.')}: ${facts.error.issues[0]?.message}`);
      await this.#store.setKubeFacts(clusterId, { ...facts.data, collectedAt: new Date(this.#now()).toISOString() });
      // Jittered so clusters that connected together do not refresh together.
      return { kind: 'done', againInMs: Math.round(LIMITS.kubeFactsIntervalMs * (0.75 + this.#random() / 2)) };
    } catch (err) {
      this.#log.debug({ clusterId, err: (err as Error).message }, 'cannot read Kubernetes facts from the agent');
      return classifyAgentFailure(err) === 'not-served' ? { kind: 'park' } : { kind: 'retry' };
    }
  }
}
