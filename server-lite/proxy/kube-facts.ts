// Pulls the cluster agent's Kubernetes facts (version, nodes with capacity, allocatable and
// conditions, recent Warning events) over `http:drover-facts` when it connects and then every
// LIMITS.kubeFactsIntervalMs, and keeps the latest in the store so `cluster get` shows them while
// the cluster is offline too. (The protocol's `facts` message is fixed-shape and small; this needs
// no new control-message kind.)
import type { Logger } from 'pino';
import type { ClusterSync } from '../context.ts';
import { LIMITS } from '../limits.ts';
import type { Store } from '../store/store.ts';
import type { SessionRegistry } from '../tunnel/session-registry.ts';
import { agentJson, AGENT_TARGETS } from './agent-request.ts';

export class KubeFactsPoller implements ClusterSync {
  readonly #store: Store;
  readonly #sessions: SessionRegistry;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #inFlight = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(store: Store, sessions: SessionRegistry, log: Logger, now: () => number) {
    this.#store = store;
    this.#sessions = sessions;
    this.#log = log.child({ component: 'kube-facts' });
    this.#now = now;
  }

  start(): void {
    this.#timer = setInterval(() => {
      for (const s of this.#sessions.list()) if (s.role === 'cluster') void this.refresh(s.clusterId);
    }, LIMITS.kubeFactsIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  kick(clusterId: string): void {
    setImmediate(() => void this.refresh(clusterId));
  }

  /** Refreshes, but resolves after `ms` at the latest (the refresh goes on in the background). */
  async refreshWithin(clusterId: string, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.refresh(clusterId), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  async refresh(clusterId: string): Promise<void> {
    const session = this.#sessions.clusterSession(clusterId);
    if (!session || this.#inFlight.has(clusterId)) return;
    this.#inFlight.add(clusterId);
    try {
      const { status, json } = await agentJson(session, AGENT_TARGETS.facts, 'GET', '/v1/facts');
      if (status !== 200 || typeof json !== 'object' || json === null) throw new Error(`agent answered ${status}`);
      await this.#store.setKubeFacts(clusterId, { ...(json as Record<string, unknown>), collectedAt: new Date(this.#now()).toISOString() });
    } catch (err) {
      this.#log.debug({ clusterId, err: (err as Error).message }, 'cannot read Kubernetes facts from the agent');
    } finally {
      this.#inFlight.delete(clusterId);
    }
  }
}
