// Which agent, of which cluster, holds a tunnel for which role: since when, from where, with which
// protocol version. At most one session per (agentId, role): the newest connection wins and the
// older one is closed cleanly, so a half-open old session can never shadow a reconnect (issue 4).
import type { Role } from '../store/store.ts';

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

export interface SessionHandle extends SessionInfo {
  /** Closes the underlying connection (idempotent). */
  close(code: number, reason: string): void;
}

export const SESSION_CLOSE = Object.freeze({
  /** A newer connection for the same agent and role took over. */
  superseded: { code: 4001, reason: 'superseded by a newer connection' },
  /** The agent's credential was revoked or the agent unregistered. */
  revoked: { code: 4003, reason: 'credential revoked' },
  /** The server is shutting down; reconnect with backoff. */
  shutdown: { code: 1001, reason: 'server shutting down' },
} as const);

const keyOf = (agentId: string, role: Role): string => `${agentId}/${role}`;

export class SessionRegistry {
  readonly #byKey = new Map<string, SessionHandle>();

  /** Registers a session; closes and returns the one it replaces, if any. */
  add(session: SessionHandle): SessionHandle | undefined {
    const key = keyOf(session.agentId, session.role);
    const old = this.#byKey.get(key);
    this.#byKey.set(key, session);
    if (old && old.id !== session.id) {
      old.close(SESSION_CLOSE.superseded.code, SESSION_CLOSE.superseded.reason);
      return old;
    }
    return undefined;
  }

  /** Forgets the session if it is still the registered one; true when it was. */
  remove(session: SessionInfo): boolean {
    const key = keyOf(session.agentId, session.role);
    if (this.#byKey.get(key)?.id !== session.id) return false;
    this.#byKey.delete(key);
    return true;
  }

  /** Closes every session of an agent (revocation, unregistration). Returns how many. */
  closeAgent(agentId: string, code: number, reason: string): number {
    let n = 0;
    for (const [key, s] of [...this.#byKey]) {
      if (s.agentId !== agentId) continue;
      this.#byKey.delete(key);
      s.close(code, reason);
      n++;
    }
    return n;
  }

  closeAll(code: number, reason: string): void {
    for (const s of [...this.#byKey.values()]) s.close(code, reason);
    this.#byKey.clear();
  }

  hasAgent(agentId: string): boolean {
    for (const s of this.#byKey.values()) if (s.agentId === agentId) return true;
    return false;
  }

  hasCluster(clusterId: string): boolean {
    for (const s of this.#byKey.values()) if (s.clusterId === clusterId) return true;
    return false;
  }

  list(filter?: { clusterId?: string; agentId?: string }): SessionInfo[] {
    const out: SessionInfo[] = [];
    for (const s of this.#byKey.values()) {
      if (filter?.clusterId && s.clusterId !== filter.clusterId) continue;
      if (filter?.agentId && s.agentId !== filter.agentId) continue;
      const { close: _close, ...info } = s;
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
