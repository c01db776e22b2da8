// Keeps cluster local endpoints in step with the server (issue 18): for each cluster whose endpoint
// was ever configured, when its agent connects, when `drover cluster endpoint` changes it, and every
// sync interval while it is enabled, (1) re-issue the endpoint certificate if its names changed or
// it nears expiry, (2) build the access set and PUT it to the agent's `http:drover-access` unless the
// agent already has that revision — so a revoked token, a removed binding or a deleted user is gone
// from the edge after the next sync — and (3) drain the agent's local audit outbox into the audit
// chain, acknowledging only what is committed (the fleet outbox's contract). Runs on the shared
// ClusterScheduler: backoff on failure, parking for agents that do not serve the target.
import type { Logger } from 'pino';
import { CLUSTER_AGENT_TARGETS, systemClock, type Clock, type EndpointSettings } from '../../protocol/index.ts';
import type { ClusterSync, ServerContext } from '../context.ts';
import { agentCall } from '../tunnel/agent-call.ts';
import { AgentAnswerError, classifyAgentFailure, NoStreamsError } from '../proxy/agent-refusal.ts';
import { DROVER_GROUPS } from '../proxy/impersonation.ts';
import { ClusterScheduler, type WorkOutcome } from '../sync/cluster-scheduler.ts';
import type { SessionHandle } from '../tunnel/session-registry.ts';
import { buildAccessSet } from './access-set.ts';
import { endpointNames, ensureEndpointTls } from './endpoint-cert.ts';
import { accessDir, readEndpointConfigs, writeEndpointConfigs, type EndpointConfig } from './endpoint-config.ts';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ACCESS_LIMITS } from './limits.ts';

export interface EndpointSyncState {
  revision: string | null;
  listening: string | null;
  error: string | null;
  syncedAt: number | null;
}

interface AuditRow {
  seq: number;
  entry: { at: number; user: string; idp: string; provider?: string; verb: string; path: string; status: number; latencyMs: number; impersonated?: string };
}

export type AccessSyncContext = Pick<ServerContext, 'store' | 'sessions' | 'audit' | 'clock' | 'adminTokenHash' | 'dataDir'>;

export class AccessSync implements ClusterSync {
  readonly #ctx: AccessSyncContext;
  readonly #log: Logger;
  readonly #scheduler: ClusterScheduler;
  readonly #intervalMs: number;
  readonly #state = new Map<string, EndpointSyncState>();
  /** Audit rows taken into the chain from local endpoints (tests, metrics). */
  drained = 0;

  constructor(ctx: AccessSyncContext, log: Logger, opts: { clock?: Clock; random?: () => number; intervalMs: number }) {
    this.#ctx = ctx;
    this.#log = log.child({ component: 'access' });
    this.#intervalMs = opts.intervalMs;
    this.#scheduler = new ClusterScheduler({
      clock: opts.clock ?? systemClock,
      random: opts.random ?? Math.random,
      backoff: { baseMs: ACCESS_LIMITS.retryBaseMs, maxMs: ACCESS_LIMITS.retryMaxMs },
      concurrency: ACCESS_LIMITS.concurrency,
      run: (id) => this.#run(id),
    });
  }

  /** Kicks every cluster with a configured endpoint (at start: their agents may be connected already). */
  start(): void {
    for (const id of Object.keys(readEndpointConfigs(this.#ctx.dataDir))) this.#scheduler.kick(id);
  }

  stop(): void {
    this.#scheduler.stop();
  }

  kick(clusterId: string): void {
    this.#state.set(clusterId, { ...(this.#state.get(clusterId) ?? { listening: null, error: null, syncedAt: null }), revision: null });
    this.#scheduler.kick(clusterId);
  }

  /** The cluster was deleted: its endpoint settings and certificates go too. */
  forget(clusterId: string): void {
    this.#state.delete(clusterId);
    this.#scheduler.forget(clusterId);
    const configs = readEndpointConfigs(this.#ctx.dataDir);
    if (configs[clusterId]) {
      delete configs[clusterId];
      writeEndpointConfigs(this.#ctx.dataDir, configs);
    }
    rmSync(join(accessDir(this.#ctx.dataDir), clusterId), { recursive: true, force: true });
  }

  whenIdle(): Promise<void> {
    return this.#scheduler.whenIdle();
  }

  state(clusterId: string): EndpointSyncState | undefined {
    return this.#state.get(clusterId);
  }

  /** The endpoint's settings (certificate re-issued first when needed), or null when disabled. */
  endpointSettings(clusterId: string, config: EndpointConfig | undefined): EndpointSettings | null {
    if (!config?.enabled) return null;
    const host = /^\[?([^\]]*)\]?:\d+$/.exec(config.listen)?.[1] ?? '';
    const tls = ensureEndpointTls(accessDir(this.#ctx.dataDir), clusterId, endpointNames(host, config.fqdn), this.#ctx.clock.now());
    return { listen: config.listen, fqdn: config.fqdn, ...tls };
  }

  async #run(clusterId: string): Promise<WorkOutcome> {
    const config = readEndpointConfigs(this.#ctx.dataDir)[clusterId];
    if (!config) return { kind: 'park' };
    const session = this.#ctx.sessions.clusterSession(clusterId);
    if (!session) return { kind: 'park' };
    try {
      await this.#push(clusterId, session, config);
      await this.#drain(clusterId, session);
    } catch (err) {
      const failure = classifyAgentFailure(err);
      this.#log.warn({ clusterId, err: (err as Error).message }, failure === 'not-served' ? 'the cluster agent does not serve the local endpoint target' : 'local endpoint sync failing; retrying');
      return failure === 'not-served' ? { kind: 'park' } : { kind: 'retry' };
    }
    return config.enabled ? { kind: 'done', againInMs: this.#intervalMs } : { kind: 'done' };
  }

  async #call(session: SessionHandle, method: string, path: string, body?: unknown) {
    const open = session.openStream;
    if (!open) throw new NoStreamsError();
    const r = await agentCall((t, m) => open(t, m), CLUSTER_AGENT_TARGETS.access, method, path, body, { timeoutMs: ACCESS_LIMITS.agentTimeoutMs, maxAnswerBytes: 4 * 1024 * 1024 });
    if (r.status !== 200) throw new AgentAnswerError(r.status, JSON.stringify(r.json).slice(0, 300));
    return r.json as Record<string, unknown>;
  }

  async #push(clusterId: string, session: SessionHandle, config: EndpointConfig): Promise<void> {
    const store = this.#ctx.store;
    const now = this.#ctx.clock.now();
    const bindings = await store.listBindings({ clusterId });
    const users = await store.listUsers();
    // Users of identity providers (issue 18): audit rows from the edge name their provider. Read from
    // the store only: a membership refresh is the server's business when the user comes through it.
    const external = new Map<string, { idp: string; provider: string }>();
    const kinds = new Map((await store.listProviders()).map((p) => [p.name, p.kind]));
    if (kinds.size > 0) {
      for (const u of users) {
        const ext = await store.getExternalUser(u.name);
        const kind = ext ? kinds.get(ext.provider) : undefined;
        if (ext && kind) external.set(u.name, { idp: kind, provider: ext.provider });
      }
    }
    const set = buildAccessSet({
      users,
      external,
      bindings,
      // A project role makes the cluster visible through the proxy; the same on the local endpoint.
      projectUsers: (await store.listProjectBindings({ clusterId })).map((b) => b.userName),
      tokens: await store.listUserTokens(),
      adminTokenHash: this.#ctx.adminTokenHash,
      droverGroups: DROVER_GROUPS,
      endpoint: this.endpointSettings(clusterId, config),
      now,
    });
    if (this.#state.get(clusterId)?.revision === set.revision) return;
    const answer = await this.#call(session, 'PUT', '/v1/access', set);
    const listening = typeof answer.listening === 'string' ? answer.listening : null;
    const error = typeof answer.error === 'string' ? answer.error : null;
    this.#state.set(clusterId, { revision: set.revision, listening, error, syncedAt: now });
    this.#log.info({ clusterId, revision: set.revision, tokens: set.tokens.length, listening, error }, 'local endpoint access set synced');
  }

  async #drain(clusterId: string, session: SessionHandle): Promise<void> {
    for (let round = 0; round < ACCESS_LIMITS.auditDrainRounds; round++) {
      const page = await this.#call(session, 'GET', '/v1/access/audit');
      const rows = Array.isArray(page.rows) ? (page.rows as AuditRow[]) : [];
      if (rows.length === 0) return;
      for (const r of rows) {
        const e = r.entry;
        this.#ctx.audit.record({
          at: Number(e.at), user: String(e.user).slice(0, 128), idp: String(e.idp).slice(0, 64), clusterId,
          verb: String(e.verb).slice(0, 32), path: String(e.path).slice(0, 1024), status: Number(e.status) || 0,
          latencyMs: Number(e.latencyMs) || 0, ...(e.impersonated ? { impersonated: String(e.impersonated).slice(0, 128) } : {}),
          ...(e.provider ? { provider: String(e.provider).slice(0, 64) } : {}),
        });
      }
      // Committed to the chain before the agent may forget them.
      await this.#ctx.audit.flush();
      const last = rows.at(-1)?.seq ?? 0;
      await this.#call(session, 'POST', '/v1/access/audit/ack', { seq: last });
      this.drained += rows.length;
    }
  }
}
