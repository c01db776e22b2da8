// Pushes agent-wide settings to every connected agent (issue 18): the server's trust bundle once it
// has rotated its CA (or is rotating) and the server URL after `drover server set-url`, to the
// `http:drover-agent` target of any one of the agent's tunnels (all its roles share one database).
// A sweep over the session registry every few seconds (and at once after a change) pushes to agents
// whose acknowledged revision differs; acknowledgements are kept in memory, so after a restart each
// agent is sent the (idempotent) settings once more. Agents that do not serve the target (older
// versions) are left alone until they reconnect.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { AGENT_SETTINGS_TARGET, systemClock, type Clock, type TimerHandle } from '../../protocol/index.ts';
import type { SessionRegistry, SessionHandle } from '../tunnel/session-registry.ts';
import { agentCall } from '../tunnel/agent-call.ts';
import { classifyAgentFailure } from '../proxy/agent-refusal.ts';
import { hasRotated, trustBundle } from '../tls/ca-rotation.ts';
import { readServerUrlChange } from './server-url.ts';


export interface AgentSettingsDoc {
  revision: string;
  trust?: { caPem: string };
  serverUrl?: { url: string; keepOldUntil: string | null };
}

/** The settings every agent should have now, or undefined when there is nothing to push. */
export function currentSettings(dataDir: string): AgentSettingsDoc | undefined {
  const doc: Omit<AgentSettingsDoc, 'revision'> = {};
  if (hasRotated(dataDir)) doc.trust = { caPem: trustBundle(dataDir) };
  const change = readServerUrlChange(dataDir);
  if (change) doc.serverUrl = { url: change.url, keepOldUntil: change.keepOldUntil === null ? null : new Date(change.keepOldUntil).toISOString() };
  if (!doc.trust && !doc.serverUrl) return undefined;
  return { revision: createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 32), ...doc };
}

export class AgentSettingsSync {
  readonly #o: { dataDir: string; sessions: SessionRegistry; log: Logger; timers: Clock; sweepMs: number; concurrency: number };
  readonly #acked = new Map<string, string>();
  #timer: TimerHandle | undefined;
  #running = false;
  #again = false;
  #stopped = false;
  /** Pushes acknowledged (tests, metrics). */
  pushes = 0;

  constructor(o: { dataDir: string; sessions: SessionRegistry; log: Logger; timers?: Clock; sweepMs: number; concurrency?: number }) {
    this.#o = { ...o, log: o.log.child({ component: 'agent-settings' }), timers: o.timers ?? systemClock, concurrency: o.concurrency ?? 32 };
  }

  start(): void {
    this.#arm(0);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
  }

  /** Something changed (rotation, URL): sweep now. */
  kick(): void {
    if (this.#running) this.#again = true;
    else this.#arm(0);
  }

  /** Agents (by id) that acknowledged the current settings. */
  acknowledged(): string[] {
    const rev = currentSettings(this.#o.dataDir)?.revision;
    return [...this.#acked].filter(([, r]) => r === rev).map(([id]) => id);
  }

  #arm(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    this.#timer = this.#o.timers.setTimeout(() => void this.#sweep(), ms);
  }

  async #sweep(): Promise<void> {
    this.#running = true;
    try {
      const doc = currentSettings(this.#o.dataDir);
      if (doc) {
        const byAgent = new Map<string, SessionHandle>();
        for (const role of ['cluster', 'node', 'fleet'] as const) {
          for (const s of this.#o.sessions.byRole(role)) if (s.openStream && !byAgent.has(s.agentId)) byAgent.set(s.agentId, s);
        }
        const due = [...byAgent].filter(([id]) => this.#acked.get(id) !== doc.revision);
        for (let i = 0; i < due.length; i += this.#o.concurrency) {
          await Promise.all(due.slice(i, i + this.#o.concurrency).map(([id, s]) => this.#push(id, s, doc)));
        }
      }
    } catch (err) {
      this.#o.log.error({ err: (err as Error).message }, 'agent settings sweep failed');
    } finally {
      this.#running = false;
      const again = this.#again;
      this.#again = false;
      this.#arm(again ? 0 : this.#o.sweepMs);
    }
  }

  async #push(agentId: string, session: SessionHandle, doc: AgentSettingsDoc): Promise<void> {
    const open = session.openStream;
    if (!open) return;
    try {
      const r = await agentCall((t, m) => open(t, m), AGENT_SETTINGS_TARGET, 'PUT', '/v1/agent/settings', doc, { timeoutMs: 15_000, maxAnswerBytes: 64 * 1024 });
      if (r.status !== 200) throw new Error(`agent answered ${r.status}: ${JSON.stringify(r.json).slice(0, 200)}`);
      this.#acked.set(agentId, doc.revision);
      this.pushes++;
      this.#o.log.info({ agentId, revision: doc.revision, changed: (r.json as { changed?: unknown }).changed }, 'agent settings pushed');
    } catch (err) {
      if (classifyAgentFailure(err) === 'not-served') {
        // An older agent: asking again every sweep would only repeat the refusal.
        this.#acked.set(agentId, doc.revision);
        this.#o.log.warn({ agentId }, 'the agent does not take settings over the tunnel (older version); it keeps its CA and URL');
        return;
      }
      this.#o.log.warn({ agentId, err: (err as Error).message }, 'agent settings push failed; retried at the next sweep');
    }
  }
}
