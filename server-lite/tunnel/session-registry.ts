// Which agent, of which cluster, holds a tunnel for which role: since when, from where, with which
// protocol version. At most one session per (agentId, role): the newest connection wins and the
// older one is closed cleanly, so a half-open old session can never shadow a reconnect (issue 4).
import { APPLICATION_CLOSE_CODES, type CapabilityName, type TunnelStream } from '../../protocol/index.ts';
import { ROLES, type Role } from '../store/store.ts';

export interface SessionInfo {
  /** Unique per connection, so a late close of a replaced session cannot remove its successor. */
  id: string;
  agentId: string;
  clusterId: string;
  nodeId: string;
  role: Role;
  since: number;
  remoteAddress: string;
  protocol: string;
}

/**
 * Why the server ends a session. `superseded`: a newer connection for the same agent and role took
 * over. `revoked`: the credential was revoked or the agent unregistered (reconnects get 401).
 * `shutdown`: the server is stopping; reconnect with backoff. `deleted`: the agent's cluster was
 * deleted (`drover cluster delete`); the agent cleans up and reconnects are refused (410).
 */
export type CloseReason = 'superseded' | 'revoked' | 'shutdown' | 'deleted';

/**
 * WebSocket close codes server-lite uses itself (api.md), from the protocol's application range
 * (4500–4599, never sent by the protocol). Shutdown uses the protocol's GOAWAY (1001).
 */
export const SERVER_CLOSE_CODES = Object.freeze({
  superseded: { code: APPLICATION_CLOSE_CODES.SESSION_SUPERSEDED, reason: 'superseded by a newer connection' },
  revoked: { code: APPLICATION_CLOSE_CODES.CREDENTIAL_REVOKED, reason: 'credential revoked' },
  deleted: { code: APPLICATION_CLOSE_CODES.CLUSTER_DELETED, reason: 'cluster deleted' },
} as const);

export interface SessionHandle extends SessionInfo {
  /** Ends the session cleanly (idempotent). */
  close(reason: CloseReason): void;
  /** Opens a stream to the agent (the Kubernetes proxy, RBAC sync, facts); absent in some tests. */
  openStream?(target: string, metadata?: Record<string, string>): TunnelStream;
  /** Whether both HELLOs listed a capability (e.g. FLEET_DELTA); absent in some tests. */
  has?(cap: CapabilityName): boolean;
}

const keyOf = (agentId: string, role: Role): string => `${agentId}/${role}`;

/** Told about registrations (HA: the database's tunnel routes, server-lite/ha/tunnel-routes.ts). */
export interface SessionObserver {
  added(s: SessionInfo): void;
  removed(s: SessionInfo): void;
}

export class SessionRegistry {
  readonly #byKey = new Map<string, SessionHandle>();
  #observer: SessionObserver | undefined;

  /** One observer (HA replica routes); added after construction so tests need none. */
  observe(observer: SessionObserver | undefined): void {
    this.#observer = observer;
  }

  /** The registered session of an agent for a role (HA: a peer replica asks for a stream on it). */
  get(agentId: string, role: Role): SessionHandle | undefined {
    return this.#byKey.get(keyOf(agentId, role));
  }
  /** clusterId → keys of its cluster-role sessions, so the proxy finds a tunnel without a scan. */
  readonly #clusterRole = new Map<string, Set<string>>();

  #index(s: SessionHandle, add: boolean): void {
    if (s.role !== 'cluster') return;
    const key = keyOf(s.agentId, s.role);
    let set = this.#clusterRole.get(s.clusterId);
    if (add) {
      if (!set) this.#clusterRole.set(s.clusterId, (set = new Set()));
      set.add(key);
    } else if (set) {
      set.delete(key);
      if (set.size === 0) this.#clusterRole.delete(s.clusterId);
    }
  }

  /** The cluster-role session of a cluster (the newest when several agents hold one), if any. */
  clusterSession(clusterId: string): SessionHandle | undefined {
    let best: SessionHandle | undefined;
    for (const key of this.#clusterRole.get(clusterId) ?? []) {
      const s = this.#byKey.get(key);
      if (s && (!best || s.since > best.since)) best = s;
    }
    return best;
  }

  /** Registers a session; closes and returns the one it replaces, if any. */
  add(session: SessionHandle): SessionHandle | undefined {
    const key = keyOf(session.agentId, session.role);
    const old = this.#byKey.get(key);
    this.#byKey.set(key, session);
    this.#index(session, true);
    this.#observer?.added(session);
    if (old && old.id !== session.id) {
      old.close('superseded');
      return old;
    }
    return undefined;
  }

  /** Forgets the session if it is still the registered one; true when it was. */
  remove(session: SessionInfo): boolean {
    const key = keyOf(session.agentId, session.role);
    const current = this.#byKey.get(key);
    if (current?.id !== session.id) return false;
    this.#byKey.delete(key);
    this.#index(current, false);
    this.#observer?.removed(current);
    return true;
  }

  /** Closes every session of an agent (revocation, unregistration). Returns how many. */
  closeAgent(agentId: string, reason: CloseReason): number {
    const sessions = this.#ofAgent(agentId);
    for (const s of sessions) {
      this.#byKey.delete(keyOf(s.agentId, s.role));
      this.#index(s, false);
      this.#observer?.removed(s);
      s.close(reason);
    }
    return sessions.length;
  }

  /** An agent has at most one session per role: three lookups, not a scan (10k-agent listings). */
  #ofAgent(agentId: string): SessionHandle[] {
    const out: SessionHandle[] = [];
    for (const role of ROLES) {
      const s = this.#byKey.get(keyOf(agentId, role));
      if (s) out.push(s);
    }
    return out;
  }

  closeAll(reason: CloseReason): void {
    for (const s of [...this.#byKey.values()]) s.close(reason);
    this.#byKey.clear();
    this.#clusterRole.clear();
  }

  has(agentId: string, role: Role): boolean {
    return this.#byKey.has(keyOf(agentId, role));
  }

  hasAgent(agentId: string): boolean {
    return this.#ofAgent(agentId).length > 0;
  }

  /** Every session of one role, with its handle (the fleet manager opens streams on them). */
  byRole(role: Role): SessionHandle[] {
    return [...this.#byKey.values()].filter((s) => s.role === role);
  }

  list(filter?: { clusterId?: string; agentId?: string }): SessionInfo[] {
    const out: SessionInfo[] = [];
    const candidates = filter?.agentId ? this.#ofAgent(filter.agentId) : this.#byKey.values();
    for (const s of candidates) {
      if (filter?.clusterId && s.clusterId !== filter.clusterId) continue;
      if (filter?.agentId && s.agentId !== filter.agentId) continue;
      const { close: _close, openStream: _open, ...info } = s;
      out.push(info);
    }
    return out.sort((a, b) => a.since - b.since || a.id.localeCompare(b.id));
  }

  get size(): number {
    return this.#byKey.size;
  }

  countByRole(): Record<Role, number> {
    const out: Record<Role, number> = { cluster: 0, node: 0, fleet: 0 };
    for (const s of this.#byKey.values()) out[s.role]++;
    return out;
  }
}
