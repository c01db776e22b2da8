// Starts server-lite: data dir, TLS identity, admin token, store, HTTPS + WSS on one port, the
// lastSeen flusher. Returns a handle to stop it. `cli/commands/server.ts` is a thin shell over this;
// tests call it in-process with an injected clock.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import pino, { type Logger } from 'pino';
import { errorBody, ServerError } from './errors.ts';
import type { Clock, ServerContext } from './context.ts';
import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from './health.ts';
import { InFlightLimiter } from './load-shedding.ts';
import { LIMITS } from './limits.ts';
import { createMetrics } from './metrics.ts';
import { hashSecret, type RandomBytes } from './secrets.ts';
import { openStore } from './store/open-store.ts';
import type { ServingCertPolicy } from './tls/tls-material.ts';
import { TlsService } from './tls/tls-service.ts';
import { LastSeen } from './tunnel/last-seen.ts';
import { ConnectionLog } from './tunnel/connection-log.ts';
import { SessionRegistry } from './tunnel/session-registry.ts';
import { AgentFrameBudgets } from './tunnel/frame-budget.ts';
import { createTunnelEndpoint } from './tunnel/connect.ts';
import { createRouter } from './http/router.ts';
import { FleetService } from './fleet/fleet-service.ts';
import { PgFleetStore } from './fleet/pg-fleet-store.ts';
import { fleetRoutes } from './fleet/fleet-api.ts';
import { SecretStore } from './secrets-store/secret-store.ts';
import { PgSecretStore } from './secrets-store/pg-secret-store.ts';
import { PgStore } from './store/pg-store.ts';
import { secretRoutes } from './secrets-store/secrets-api.ts';
import { PlanService } from './plans/plan-service.ts';
import { PgPlanStore } from './store/pg-plan-store.ts';
import { remoteNodeIds, scheduleUnderLeases } from './plans/ha-scheduling.ts';
import { planRoutes } from './plans/plan-api.ts';
import { k8sArtifactRoutes } from './plans/k8s-artifact-api.ts';
import { K8sArtifactStore } from './plans/k8s-artifacts.ts';
import { startUpgrades } from './upgrades/upgrade-wiring.ts';
import { sendError } from './http/body.ts';
import { agentRoutes } from './api/agent-api.ts';
import { adminRoutes } from './api/admin-api.ts';
import { opsRoutes } from './api/ops-api.ts';
import { userRoutes } from './api/user-api.ts';
import { auditRoutes } from './api/audit-api.ts';
import { providerRoutes } from './auth/providers/provider-api.ts';
import { ProviderService } from './auth/providers/provider-service.ts';
import { dataDirSealer } from './auth/providers/sealed-value.ts';
import { groupBindingRoutes } from './rbac/group-bindings-api.ts';
import { projectRoutes } from './api/project-api.ts';
import { AuditWriter } from './audit/audit-writer.ts';
import { callerOf } from './auth/caller.ts';
import { auditStatus } from './http/audit-status.ts';
import { RbacPropagator } from './rbac/propagator.ts';
import { KubeFactsPoller } from './proxy/kube-facts.ts';
import { createK8sProxy } from './proxy/k8s-proxy.ts';
import { createShellEndpoint, isShellUrl } from './shell/shell-endpoint.ts';
import { PROXY_PREFIX } from './proxy/request-shape.ts';
import { join } from 'node:path';
import { systemClock, type CapabilityName, type Clock as TimerClock } from '../protocol/index.ts';
import { dataPaths, ensureAdminToken, ensureDataDir, writeServerRecord } from './data-dir.ts';
import { AccessSync } from './access/access-sync.ts';
import { accessSyncIntervalMs } from './access/limits.ts';
import { endpointRoutes } from './access/endpoint-api.ts';
import { checkServerUrl, readServerUrlChange } from './access/server-url.ts';
import { AgentSettingsSync } from './access/agent-settings-sync.ts';
import { serverAdminRoutes } from './access/server-admin-api.ts';
import { agentSettingsSweepMs } from './access/limits.ts';
import { createDashboard } from './ui/dashboard.ts';
import { startReplica } from './ha/replica-wiring.ts';
import { HintBus } from './ha/hints.ts';

export interface ServerConfig {
  dataDir: string;
  host: string;
  port: number;
  /** undefined: SQLite in the data dir. */
  datastore?: string | undefined;
  tlsSans: readonly string[];
  /** HA replica (issue 17): HOST:PORT other replicas reach this one at (mutual TLS, server CA). */
  advertiseAddress?: string | undefined;
}

export interface ServerDeps {
  log?: Logger;
  clock?: Clock;
  /** Timers of the per-cluster work (RBAC pushes, facts pulls); tests pass a ManualClock. */
  timers?: TimerClock;
  /** The proxy's keep-alive stream pools (decision 1200): tests pass a ManualClock for idle timeouts. */
  proxyPool?: { timers?: TimerClock; maxIdlePerTarget?: number; idleTimeoutMs?: number };
  random?: RandomBytes;
  health?: Partial<HealthPolicy>;
  /** Overrides of the load-shedding limits (tests use small ones). */
  limits?: Partial<{
    maxConcurrentRegistrations: number;
    maxConcurrentUpgrades: number;
    maxSessions: number;
    /** Slow-client timeouts (tests use small ones; LIMITS has the real values). */
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    connectionsCheckingIntervalMs: number;
  }>;
  defaultMetrics?: boolean;
  /** Software version for the protocol HELLO (the CLI passes its build version). */
  version?: string;
  /**
   * Serves what the installer fetches (GET /install.sh, /v1/downloads/…) and answers true when it
   * did. The CLI passes packaging's handler, which server-lite may not import (ARCHITECTURE.md §1).
   */
  downloads?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Serving certificate lifetime and renewal window (tests use short ones; issue 18). */
  servingCertPolicy?: ServingCertPolicy;
}

export interface RunningServer {
  url: string;
  port: number;
  caHash: string;
  caPem: string;
  caFile: string;
  adminToken: string;
  ctx: ServerContext;
  /** Flushes lastSeen now (tests, shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

function urlHost(host: string): string {
  const h = WILDCARDS.has(host) ? '127.0.0.1' : host;
  return isIP(h) === 6 ? `[${h}]` : h;
}

export async function startServer(config: ServerConfig, deps: ServerDeps = {}): Promise<RunningServer> {
  const log = deps.log ?? pino({ name: 'drover-server' });
  const clock = deps.clock ?? { now: () => Date.now() };
  const random = deps.random ?? randomBytes;
  ensureDataDir(config.dataDir);
  const paths = dataPaths(config.dataDir);
  // First, so a bad --datastore fails before anything else is created or changed.
  const store = await openStore(config.datastore, paths.database);

  const sans = new Set(['localhost', '127.0.0.1', '::1', hostname(), ...config.tlsSans]);
  if (!WILDCARDS.has(config.host)) sans.add(config.host);
  // Issue 18: the host of a URL set with `drover server set-url` is a name of the serving certificate.
  const urlChange = readServerUrlChange(config.dataDir);
  const urlHost_ = urlChange ? checkServerUrl(urlChange.url) : undefined;
  if (urlHost_ && typeof urlHost_ !== 'string') sans.add(urlHost_.host);
  const timers = deps.timers ?? systemClock;
  let recordUrl: string | undefined;
  // Renewal before expiry, CA switch after a rotation's overlap, names added by set-url (issue 18).
  const tlsService = new TlsService({
    dataDir: config.dataDir, sans: [...sans], now: () => clock.now(), timers, log, policy: deps.servingCertPolicy,
    onChange: (m) => {
      ctx.tls = m;
      if (recordUrl) writeServerRecord(config.dataDir, { url: recordUrl, caFile: m.caFile, caHash: m.caHash, pid: process.pid });
    },
  });
  const tls = tlsService.material;
  const adminToken = ensureAdminToken(config.dataDir, random);

  const sessions = new SessionRegistry();
  const audit = await AuditWriter.open(store, join(config.dataDir, 'audit.log'), log);
  const unit = (): number => random(4).readUInt32BE(0) / 2 ** 32;
  const rbac = new RbacPropagator(store, sessions, log, { clock: timers, random: unit });
  const kubeFacts = new KubeFactsPoller(store, sessions, log, () => clock.now(), { clock: timers, random: unit });
  const ctx: ServerContext = {
    store,
    sessions,
    lastSeen: new LastSeen(),
    connections: new ConnectionLog(),
    clock,
    random,
    unit,
    log,
    metrics: createMetrics(sessions, { defaultMetrics: deps.defaultMetrics ?? true }),
    tls,
    adminTokenHash: hashSecret(adminToken),
    health: { ...DEFAULT_HEALTH_POLICY, ...deps.health },
    limiters: {
      registrations: new InFlightLimiter(deps.limits?.maxConcurrentRegistrations ?? LIMITS.maxConcurrentRegistrations),
      upgrades: new InFlightLimiter(deps.limits?.maxConcurrentUpgrades ?? LIMITS.maxConcurrentUpgrades),
    },
    maxSessions: deps.limits?.maxSessions ?? LIMITS.maxSessions,
    frameBudgets: new AgentFrameBudgets({ burst: LIMITS.agentFrameBurst, perSecond: LIMITS.agentFramesPerSecond }),
    closing: false,
    dataDir: config.dataDir,
    audit,
    rbac,
    kubeFacts,
    clusterSyncs: [rbac, kubeFacts],
    onClusterDeleted: [],
    version: deps.version ?? '0.0.0-dev',
  };
  ctx.hints = new HintBus(log, ctx.metrics.registry); // wake-up hints between HA replicas (issue 17; no-op on one server)
  // Local cluster endpoints (issue 18): access sets pushed to cluster agents, their audit drained.
  ctx.serverTls = tlsService;
  ctx.access = new AccessSync(ctx, log, { clock: timers, random: unit, intervalMs: accessSyncIntervalMs(process.env) });
  ctx.clusterSyncs.push(ctx.access);
  ctx.agentSettings = new AgentSettingsSync({ dataDir: config.dataDir, sessions, log, timers, sweepMs: agentSettingsSweepMs(process.env) });
  ctx.providers = new ProviderService({ store, sealer: dataDirSealer(config.dataDir), now: () => clock.now(), random, log, kick: (id) => rbac.kick(id) });

  // Source credentials (issue 19): sealed in the data dir, read by the git pollers and helm at use.
  const secrets = store instanceof PgStore ? await PgSecretStore.open(store.db, config.dataDir) : new SecretStore(config.dataDir);
  // Fleet (issue 6): its own store in the data dir, delivery over fleet-role tunnels.
  const fleet = new FleetService({
    dataDir: config.dataDir,
    // On PostgreSQL the fleet's rows are in the shared database (issue 17, decision 1100), else fleet.db.
    store: store instanceof PgStore ? await PgFleetStore.open(store.db) : undefined,
    secrets,
    log,
    now: () => clock.now(),
    clusters: async () => (await store.listClusters()).map((c) => ({ id: c.id, name: c.name, labels: c.labels })),
    clustersVersion: () => store.clustersVersion?.(),
    sessions: () => sessions.byRole('fleet').flatMap((s) => (s.openStream ? [{ id: s.id, agentId: s.agentId, clusterId: s.clusterId, openStream: s.openStream.bind(s), has: (cap: CapabilityName) => s.has?.(cap) === true }] : [])),
  });
  // Node plans (issue 15): their own store in the data dir, delivery over node-role tunnels.
  const plans = new PlanService({
    dataDir: config.dataDir,
    log,
    now: () => clock.now(),
    nodes: async () => {
      const clusters = new Map((await store.listClusters()).map((c) => [c.id, c]));
      return (await store.listNodes()).flatMap((n) => (n.removedAt === null ? [{ id: n.id, name: n.name, clusterId: n.clusterId, clusterName: clusters.get(n.clusterId)?.name ?? n.clusterId, clusterLabels: clusters.get(n.clusterId)?.labels ?? {}, facts: n.facts }] : []));
    },
    sessions: () => sessions.byRole('node').flatMap((s) => (s.openStream ? [{ id: s.id, agentId: s.agentId, nodeId: s.nodeId, openStream: s.openStream.bind(s) }] : [])),
    syncMs: Number(process.env.DROVER_PLAN_SYNC_MS) > 0 ? Number(process.env.DROVER_PLAN_SYNC_MS) : undefined,
    store: store instanceof PgStore ? new PgPlanStore(store.db) : undefined, // issue 17: shared by replicas
    remoteNodes: () => remoteNodeIds(ctx),
  });
  ctx.onClusterDeleted.push((clusterId, agentIds) => void fleet.forgetCluster(clusterId, agentIds).catch((err: unknown) => log.error({ err, clusterId }, 'fleet: forgetting a deleted cluster failed')));
  // Releases and agent upgrades (issue 16): rows in the store, executables in the data dir.
  const upgrades = startUpgrades(ctx);
  ctx.onOutboxSignal = (sessionId, role) => (role === 'node' ? plans.sync.drainSoon(sessionId) : fleet.sync.drainSoon(sessionId));
  const dispatch = createRouter([
    ...opsRoutes, ...agentRoutes, ...adminRoutes, ...userRoutes, ...projectRoutes, ...auditRoutes, ...providerRoutes, ...groupBindingRoutes, ...fleetRoutes(fleet),
    ...secretRoutes(secrets, () => clock.now(), (name) => void fleet.secretChanged(name).catch((err: unknown) => log.warn({ err }, 'fleet: polling after a secret change failed'))),
    ...endpointRoutes, ...serverAdminRoutes,
    ...planRoutes(plans),
    ...k8sArtifactRoutes(new K8sArtifactStore(config.dataDir)), // Kubernetes upgrades' binaries (issue 15)
    ...upgrades.routes,
  ]);
  const proxy = createK8sProxy(ctx, deps.proxyPool);
  const shell = createShellEndpoint(ctx);
  // The web dashboard (issue 20): /ui/… on this port, audited by itself.
  const dashboard = createDashboard({ ctx, fleet, plans, upgrades: upgrades.service });
  // Node enforces headersTimeout and requestTimeout only when it checks its connections, every
  // connectionsCheckingInterval (default 30 s): both are set here, at creation (issue 14).
  const timeouts = {
    headersTimeout: deps.limits?.headersTimeoutMs ?? LIMITS.headersTimeoutMs,
    requestTimeout: deps.limits?.requestTimeoutMs ?? LIMITS.requestTimeoutMs,
    connectionsCheckingInterval: deps.limits?.connectionsCheckingIntervalMs ?? LIMITS.connectionsCheckingIntervalMs,
  };
  // The response of each connection's current request, so a timeout never writes a second answer.
  const answering = new WeakMap<Duplex, ServerResponse>();
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem, minVersion: 'TLSv1.2', ...timeouts }, (req, res) => {
    answering.set(req.socket, res);
    // Public artifacts (install.sh, executables, checksums): no credentials, nothing to audit.
    if (deps.downloads?.(req, res)) return;
    if ((req.url ?? '').startsWith(PROXY_PREFIX)) {
      // The proxy audits its own requests (with the cluster and the Kubernetes verb).
      proxy.handleRequest(req, res).catch((err: unknown) => {
        log.error({ err }, 'proxy handler crashed');
        sendError(res, new ServerError('INTERNAL'));
      });
      return;
    }
    if (dashboard.handle(req, res)) return;
    auditApiCall(ctx, req, res);
    dispatch(ctx, req, res).catch((err: unknown) => {
      log.error({ err }, 'request handler crashed');
      sendError(res, new ServerError('INTERNAL'));
    });
  });
  const tunnels = createTunnelEndpoint(ctx);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (isShellUrl(req.url)) {
      shell.handleUpgrade(req, socket, head).catch((err: unknown) => {
        log.error({ err }, 'shell upgrade crashed');
        socket.destroy();
      });
    } else if ((req.url ?? '').startsWith(PROXY_PREFIX)) {
      proxy.handleUpgrade(req, socket, head).catch((err: unknown) => {
        log.error({ err }, 'proxy upgrade crashed');
        socket.destroy();
      });
    } else tunnels.onUpgrade(req, socket, head);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    log.debug({ err: err.code ?? err.message }, 'client error');
    const res = answering.get(socket);
    if (!socket.writable || res?.headersSent === true) {
      socket.destroy();
      return;
    }
    if (res !== undefined && !res.writableEnded && err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // A handler is still waiting for this body: answer through its response, so the audit row
      // and the metrics see the 408, and close the connection after it.
      res.setHeader('connection', 'close');
      sendError(res, new ServerError('REQUEST_TIMEOUT', requestTimeoutMessage()));
      return;
    }
    socket.end(clientErrorResponse(err.code));
  });
  server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const url = `https://${urlHost(config.host)}:${port}`;
  writeServerRecord(config.dataDir, { url, caFile: ctx.tls.caFile, caHash: ctx.tls.caHash, pid: process.pid });
  recordUrl = url;
  tlsService.attach(server);

  const flush = async (): Promise<void> => {
    await ctx.lastSeen.flush(store, true);
    await ctx.connections?.flush(store, clock.now());
  };
  const flusher = setInterval(() => {
    ctx.lastSeen.flush(store).catch((err: unknown) => log.error({ err }, 'lastSeen flush failed'));
    ctx.connections?.flush(store, clock.now()).catch((err: unknown) => log.error({ err }, 'connection history flush failed'));
  }, LIMITS.lastSeenFlushMs);
  flusher.unref();
  // HA (issue 17): routes in the database, the peer listener, singletons under leases.
  ctx.ha = await startReplica(config, { ctx, fleet, timers, log });
  scheduleUnderLeases(ctx, plans, upgrades); // plan and upgrade scheduling on one replica (issue 17)
  rbac.start();
  fleet.start();
  plans.start();
  kubeFacts.start();
  ctx.access.start();
  ctx.agentSettings.start();

  log.info({ url, dataDir: config.dataDir, caHash: tls.caHash, sans: [...sans] }, 'drover server listening');

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      ctx.closing = true;
      clearInterval(flusher);
      await ctx.ha?.stop();
      rbac.stop();
      kubeFacts.stop();
      ctx.access?.stop();
      tlsService.stop();
      ctx.agentSettings?.stop();
      await fleet.stop();
      await plans.stop();
      await upgrades.stop();
      dashboard.close();
      secrets.close();
      sessions.closeAll('shutdown');
      await tunnels.drain(LIMITS.shutdownGraceMs);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await flush();
      await audit.flush();
      await store.close();
      log.info('drover server stopped');
    })();
    return closed;
  };

  return { url, port, caHash: tls.caHash, caPem: tls.caPem, caFile: tls.caFile, adminToken, ctx, flush, close };
}

function requestTimeoutMessage(): string {
  return `the request did not arrive in time (headers within ${LIMITS.headersTimeoutMs / 1000} s, the whole request within ${LIMITS.requestTimeoutMs / 1000} s)`;
}

/** The raw answer to a request Node refused itself: 408 for a request that arrived too slowly. */
function clientErrorResponse(code: string | undefined): string {
  if (code !== 'ERR_HTTP_REQUEST_TIMEOUT' && code !== 'ERR_HTTP_HEADERS_TIMEOUT') {
    return 'HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';
  }
  const body = JSON.stringify(errorBody('REQUEST_TIMEOUT', requestTimeoutMessage()));
  return `HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json; charset=utf-8\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Audits every `/v1/…` API call (except the tunnel and agent traffic's own noise: none excluded). */
function auditApiCall(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (!path.startsWith('/v1/')) return;
  const at = ctx.clock.now();
  const t0 = performance.now();
  res.once('close', () => {
    const caller = callerOf(req);
    const m = /^\/v1\/clusters\/([^/]+)/.exec(path);
    ctx.audit.record({
      at,
      user: caller.user,
      idp: caller.idp,
      ...(caller.provider ? { provider: caller.provider } : {}),
      clusterId: m?.[1] ?? null,
      verb: (req.method ?? 'GET').toLowerCase(),
      path,
      // A response that never finished (the client went away, a timeout) is no 200 (issue 14).
      status: auditStatus(res),
      latencyMs: Math.round((performance.now() - t0) * 10) / 10,
    });
  });
}
