// Propagates role bindings to clusters: for each cluster whose agent is connected and whose last
// applied RBAC set differs from the desired one, PUT the whole set to the agent's `http:drover-rbac`
// target; the agent applies it with server-side apply and prunes what is no longer wanted. Whole
// sets make every push idempotent. A cluster that is offline is simply retried every cycle, and
// pushed at once when its agent connects (kick from agent-session.ts).
import type { Logger } from 'pino';
import type { ClusterSync } from '../context.ts';
import { LIMITS } from '../limits.ts';
import type { Store } from '../store/store.ts';
import type { SessionRegistry } from '../tunnel/session-registry.ts';
import { agentJson, AGENT_TARGETS } from '../proxy/agent-request.ts';
import { desiredRbac, rbacHash } from './desired.ts';

export type PropagationState = 'propagated' | 'pending';

export class RbacPropagator implements ClusterSync {
  readonly #store: Store;
  readonly #sessions: SessionRegistry;
  readonly #log: Logger;
  /** clusterId → hash of the set the agent last acknowledged (in memory: after a restart, push again). */
  readonly #applied = new Map<string, string>();
  readonly #inFlight = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  /** Completed pushes (tests and metrics). */
  pushes = 0;

  constructor(store: Store, sessions: SessionRegistry, log: Logger) {
    this.#store = store;
    this.#sessions = sessions;
    this.#log = log.child({ component: 'rbac' });
  }

  start(): void {
    this.#timer = setInterval(() => void this.syncAll(), LIMITS.rbacSyncIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  kick(clusterId: string): void {
    setImmediate(() => void this.sync(clusterId));
  }

  async state(clusterId: string): Promise<PropagationState> {
    const hash = rbacHash(desiredRbac(await this.#store.listBindings({ clusterId })));
    return this.#applied.get(clusterId) === hash ? 'propagated' : 'pending';
  }

  async syncAll(): Promise<void> {
    const clusters = new Set(this.#sessions.list().filter((s) => s.role === 'cluster').map((s) => s.clusterId));
    await Promise.all([...clusters].map((id) => this.sync(id)));
  }

  /** Pushes the desired set to one cluster when it differs from the applied one. */
  async sync(clusterId: string): Promise<void> {
    if (this.#inFlight.has(clusterId)) return;
    const session = this.#sessions.clusterSession(clusterId);
    if (!session) return;
    this.#inFlight.add(clusterId);
    try {
      const objects = desiredRbac(await this.#store.listBindings({ clusterId }));
      const hash = rbacHash(objects);
      if (this.#applied.get(clusterId) === hash) return;
      const { status, json } = await agentJson(session, AGENT_TARGETS.rbac, 'PUT', '/v1/rbac', { objects });
      if (status !== 200) throw new Error(`agent answered ${status}: ${JSON.stringify(json).slice(0, 300)}`);
      this.#applied.set(clusterId, hash);
      this.pushes++;
      this.#log.info({ clusterId, objects: objects.length, result: json }, 'RBAC propagated');
    } catch (err) {
      this.#log.warn({ clusterId, err: (err as Error).message }, 'RBAC propagation failed; retrying next cycle');
    } finally {
      this.#inFlight.delete(clusterId);
    }
  }
}
