// `drover agent run`: one TunnelClient per role in this process, connection state persisted to
// the store for `status`, credential rotation while connected, facts from each role's provider.
// Returns when the signal aborts (SIGINT/SIGTERM) or the identity is removed (unregister).
import { once } from 'node:events';
import type { Logger } from 'pino';
import type { Clock, TunnelStream } from '../../protocol/index.ts';
import { AgentError, describeError } from './errors.ts';
import { LIMITS } from './limits.ts';
import { baseFacts, type Facts } from './facts.ts';
import { transportFor } from './https-client.ts';
import { describeProxy, type ProxyEnv } from './proxy-env.ts';
import { AgentStore, type Identity } from './store.ts';
import { TunnelClient, type TunnelState } from './tunnel-client.ts';
import { CredentialRotator } from './credential-rotator.ts';
import type { Role, RunConfig } from './config.ts';
import { createStreamHttpServer } from '../../protocol/index.ts';
import { AGENT_SETTINGS_TARGET, agentSettingsHandler } from './agent-settings.ts';
import { serverCandidates } from './server-targets.ts';
import { cleanUpDeletedCluster, startUninstaller, type CleanupOutcome, type RoleCleanup } from './cluster-deleted.ts';

/** Builds a role's extra facts (e.g. the cluster role's Kubernetes version) from the identity. */
export type RoleFactsProvider = (ctx: { identity: Identity; logger: Logger }) => () => Promise<Partial<Facts>>;

/** What a role's stream provider gets: the fleet role also keeps state in the agent's database and
 *  work of its own running (reconcile loop), stopped through `onStop` before the store closes. */
export interface RoleContext {
  identity: Identity;
  logger: Logger;
  db: AgentStore['db'];
  signal: AbortSignal;
  onStop(fn: () => Promise<void>): void;
  /** Registers what the role removes from the cluster when the cluster is deleted on the server. */
  onCleanup(fn: RoleCleanup): void;
  /** Tells the server over this role's tunnel that statuses are queued (`heartbeat` with `outbox`). */
  notifyOutbox?(queued: number): void;
}

/** Serves the streams the server opens on a role's tunnel (the cluster role's Kubernetes proxy). */
export type RoleStreamHandler = (ctx: RoleContext) => (stream: TunnelStream) => void;

export interface RunDeps {
  logger: Logger;
  env: ProxyEnv;
  signal: AbortSignal;
  roleFacts?: Partial<Record<Role, RoleFactsProvider>>;
  roleStreams?: Partial<Record<Role, RoleStreamHandler>>;
  /** Stream targets served on every role's tunnel (agent self-upgrade, issue 16). */
  agentTargets?: Readonly<Record<string, (stream: TunnelStream) => void>>;
  now?: () => number;
  random?: () => number;
  sessionClock?: Clock;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export async function runAgent(cfg: RunConfig, deps: RunDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const store = AgentStore.open(cfg.dataDir, { create: false });
  try {
    const identity = store.requireIdentity(cfg.dataDir);
    const missing = cfg.roles.filter((r) => !identity.roles.includes(r));
    if (missing.length > 0) {
      throw new AgentError('INVALID_CONFIG', `--roles: this agent registered roles ${identity.roles.join(', ')}, not ${missing.join(', ')}`);
    }
    const transport = transportFor(identity.serverUrl, deps.env);
    const log = deps.logger.child({ agentId: identity.agentId, clusterId: identity.clusterId });
    log.info({ version: cfg.agentVersion, server: identity.serverUrl, roles: cfg.roles, proxy: describeProxy(transport.proxy), dataDir: cfg.dataDir }, 'agent starting');
    const rotator = new CredentialRotator(store, transport, now, log);
    // Settings the server pushes to the whole agent (trust bundle, server URL; issue 18), served on
    // every role's tunnel; each dial re-reads them from the store, which all role processes share.
    const settings = createStreamHttpServer({ request: agentSettingsHandler(store, log) });
    const transports = new Map<string, ReturnType<typeof transportFor>>([[identity.serverUrl, transport]]);
    const agentFor = (url: string) => {
      let t = transports.get(url);
      if (!t) transports.set(url, (t = transportFor(url, deps.env)));
      return t.agent;
    };
    const targets = () => {
      const id = store.getIdentity() ?? identity;
      return { urls: serverCandidates(id, now()), ca: id.caPem };
    };
    const base = baseFacts(cfg.agentVersion);
    const stops: (() => Promise<void>)[] = [];
    const cleanups = new Map<Role, RoleCleanup>();
    // The cluster was deleted on the server: one clean-up for all roles of this process, retried
    // (on the next refusal) when it fails, e.g. with the kube-apiserver away.
    let cleaning: Promise<void> | undefined;
    let cleanedUp!: (o: CleanupOutcome) => void;
    const deleted = new Promise<CleanupOutcome>((resolve) => (cleanedUp = resolve));
    const onClusterDeleted = (): void => {
      cleaning ??= cleanUpDeletedCluster({ store, transport, roles: cfg.roles, cleanups, log }).then(cleanedUp, (err: unknown) => {
        log.error({ err: describeError(err) }, 'clean-up of the deleted cluster failed; retrying at the next refusal');
        cleaning = undefined;
      });
    };

    const clients = cfg.roles.map((role) => {
      let client: TunnelClient | undefined;
      const extra = deps.roleFacts?.[role]?.({ identity, logger: log.child({ role }) });
      const roleStream = deps.roleStreams?.[role]?.({ identity, logger: log.child({ role }), db: store.db, signal: deps.signal, onStop: (fn) => void stops.push(fn), onCleanup: (fn) => void cleanups.set(role, fn), notifyOutbox: (n) => client?.notifyOutbox(n) });
      const onStream = (stream: TunnelStream): void => {
        const agentTarget = deps.agentTargets?.[stream.target];
        if (stream.target === AGENT_SETTINGS_TARGET) {
          stream.on('error', () => {});
          settings.serve(stream);
        } else if (agentTarget) agentTarget(stream);
        else if (roleStream) roleStream(stream);
        else stream.reset('STREAM_REFUSED', `the ${role} role serves no ${stream.target.slice(0, 64)}`);
      };
      const persist = (s: TunnelState): void => {
        store.putRoleState({
          role,
          state: s.state,
          since: new Date(s.since).toISOString(),
          lastError: s.state === 'disconnected' ? s.lastError : null,
          nextRetryAt: s.state === 'disconnected' ? iso(s.nextRetryAt) : null,
          serverUrl: s.state === 'disconnected' ? (store.roleStates().find((r) => r.role === role)?.serverUrl ?? null) : (s.url ?? null),
          pid: process.pid,
          updatedAt: new Date(now()).toISOString(),
        });
      };
      return client = new TunnelClient({
        serverUrl: identity.serverUrl,
        role,
        agentId: identity.agentId,
        agentVersion: cfg.agentVersion,
        credential: () => store.getIdentity()?.credential,
        ca: identity.caPem,
        agent: transport.agent,
        backoff: cfg.backoff,
        random: deps.random ?? Math.random,
        now,
        facts: async () => ({ ...base, ...(extra ? await extra() : {}) }),
        logger: log,
        onState: persist,
        onConnected: ({ rotateHint }) => void rotator.maybeRotate(rotateHint),
        recoverCredential: (refused) => rotator.recover(refused),
        targets,
        agentFor,
        onClusterDeleted,
        onStream,
        ...(deps.sessionClock ? { sessionClock: deps.sessionClock } : {}),
      });
    });
    for (const c of clients) c.start();
    // Rotation is otherwise checked at connect; a tunnel that never drops must rotate too.
    const rotationCheck = setInterval(() => {
      if (clients.some((c) => c.state.state === 'connected')) void rotator.maybeRotate(false);
    }, LIMITS.rotationCheckMs);
    rotationCheck.unref();

    const aborted = deps.signal.aborted ? Promise.resolve() : once(deps.signal, 'abort').then(() => undefined);
    const allFinished = Promise.all(clients.map((c) => c.finished)).then(() => 'unregistered' as const);
    let outcome: CleanupOutcome | undefined;
    const why = await Promise.race([
      aborted.then(() => 'signal' as const),
      allFinished,
      deleted.then((o) => {
        outcome = o;
        return 'deleted' as const;
      }),
    ]);
    clearInterval(rotationCheck);
    log.info({ why }, 'agent stopping');
    await Promise.all(clients.map((c) => c.stop(why === 'signal' ? 'agent stopping' : why === 'deleted' ? 'cluster deleted' : 'agent unregistered')));
    await Promise.all(stops.map((fn) => fn()));
    if (outcome) {
      const { order, remaining, done } = outcome;
      if (remaining.length === 0 && order.uninstallAgents) startUninstaller(process.env, log);
      throw new AgentError(
        'CLUSTER_DELETED',
        `cluster ${order.clusterName} (${order.clusterId}) was deleted on the server by ${order.deletedBy} at ${order.deletedAt}; ` +
          `${done.length > 0 ? done.join('; ') : "nothing of Drover's was on the cluster to remove"}` +
          (remaining.length > 0 ? `; roles ${remaining.join(', ')} of this agent still to clean up in their own process` : '; identity forgotten: register again with a new join token to bring the site back'),
      );
    }
    if (why === 'unregistered') throw new AgentError('NOT_REGISTERED', `the identity in ${cfg.dataDir} was removed while running`);
  } finally {
    store.close();
  }
}
