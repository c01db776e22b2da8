// One role's tunnel: dial /v1/connect, run a protocol session over it, send facts (at connect
// and on change) and, when the role has statuses queued, a heartbeat saying so, and when it ends wait a backoff delay and dial again, forever,
// until stopped. Connection state is reported through `onState` so the caller can persist it
// (status) or, in the load test, just count it. One TunnelClient per role; many per process fine.
import type https from 'node:https';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { attachWebSocket, systemClock, type Clock, type Session, type SessionCloseInfo, type TunnelStream } from '../../protocol/index.ts';
import { afterDisconnect, backoffDelay, INITIAL_BACKOFF, type BackoffOptions, type BackoffState } from './backoff.ts';
import { AgentError, describeError } from './errors.ts';
import { factsEqual, type Facts } from './facts.ts';
import { LIMITS } from './limits.ts';
import { dial } from './ws-dial.ts';
import { describeClose } from './session-close.ts';
import type { Role } from './config.ts';

export type TunnelState =
  /** `url`: the server URL being dialled or in use (issue 18: URL changes, agent status). */
  | { state: 'connecting'; since: number; url?: string }
  | { state: 'connected'; since: number; url?: string }
  /** `since`: when the outage began (not the last retry); `retryInMs`: the backoff just chosen. */
  | { state: 'disconnected'; since: number; lastError: string; nextRetryAt: number | null; retryInMs?: number };

export interface TunnelClientOptions {
  serverUrl: string;
  role: Role;
  agentId: string;
  agentVersion: string;
  /** Re-read before every dial: another process may have rotated it. Undefined: unregistered. */
  credential: () => string | undefined;
  ca: string;
  agent: https.Agent | undefined;
  backoff: BackoffOptions;
  random: () => number;
  /** Wall clock, ms since the epoch (state timestamps, heartbeats). */
  now: () => number;
  facts: () => Promise<Facts>;
  logger: Logger;
  onState?: (s: TunnelState) => void;
  /** Called when a session is ready; `rotateHint` when the server asked for a new credential. */
  onConnected?: (info: { rotateHint: boolean }) => void;
  /**
   * The server refused `credential` as rotated out (CREDENTIAL_SUPERSEDED): we stopped between
   * rotating and saving. Resolves true when a fresh credential is now stored (retry at once).
   */
  recoverCredential?: (credential: string) => Promise<boolean>;
  /** The server said this agent's cluster was deleted (close 4502 or 410 at connect): clean up. */
  onClusterDeleted?: () => void;
  sessionClock?: Clock;
  /**
   * Re-read before every dial (issue 18): the server URLs to try in order (the current one, then the
   * previous one during a URL change) and the CA bundle to trust (updated by a CA rotation). Without
   * it: `serverUrl` and `ca`.
   */
  targets?: () => { urls: string[]; ca: string };
  /** The HTTP agent (CONNECT proxy or none) for a URL; without it: `agent`. */
  agentFor?: (url: string) => https.Agent | undefined;
  /**
   * Serves streams the server opens on this role's tunnel (e.g. the cluster role's
   * `http:kube-apiserver`). Without it every stream is refused (STREAM_REFUSED).
   */
  onStream?: (stream: TunnelStream) => void;
  /** A periodic heartbeat message at this interval (the load test's old behaviour); by default
   *  none: the session's PINGs keep the link and the server's lastSeen alive (decision 1041). */
  heartbeatIntervalMs?: number;
  factsRefreshMs?: number;
  factsMinResendMs?: number;
}

/** One frozen object for every role's session (decision 0808: sessions share their limits). */
const AGENT_SESSION_LIMITS = Object.freeze({ pingIntervalMs: LIMITS.idlePingIntervalMs });

export class TunnelClient {
  readonly role: Role;
  private readonly o: TunnelClientOptions;
  private readonly log: Logger;
  private backoffState: BackoffState = INITIAL_BACKOFF;
  private stopped = true;
  private retryTimer: NodeJS.Timeout | undefined;
  private ws: WebSocket | undefined;
  private session: Session | undefined;
  private sessionEnded: Promise<void> = Promise.resolve();
  private current: TunnelState;
  private lastFacts: Facts | undefined;
  /** When facts were last sent on this session (the agent's wall clock). */
  private lastFactsAt = 0;
  /** Start of the current outage: status says "disconnected since" the link went, not the last retry. */
  private downSince: number | undefined;
  /** The last failure logged at warn/error: the same failure again is logged at debug (issue 14:
   *  one line per state change during a partition, not one per retry). */
  private lastLoggedError: string | undefined;
  /** Sessions that reached 'ready' over this client's lifetime (tests, load test). */
  connections = 0;
  /** Resolves when the client stops for good (stop(), or the identity was removed). */
  readonly finished: Promise<void>;
  private finish: () => void = () => {};

  constructor(opts: TunnelClientOptions) {
    this.o = opts;
    this.role = opts.role;
    // The caller's logger already names the agent (agentId, clusterId); we add the role.
    this.log = opts.logger.child({ role: opts.role });
    this.current = { state: 'disconnected', since: opts.now(), lastError: 'not started', nextRetryAt: null };
    this.finished = new Promise<void>((resolve) => {
      this.finish = resolve;
    });
  }

  get state(): TunnelState {
    return this.current;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt();
  }

  /** Closes the tunnel cleanly (GOAWAY) and stops reconnecting. */
  async stop(reason = 'agent stopping'): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.session?.close('GOING_AWAY', reason);
    const grace = new Promise<void>((r) => setTimeout(r, LIMITS.stopGraceMs).unref());
    await Promise.race([this.sessionEnded, grace]);
    this.ws?.terminate();
    this.setState({ state: 'disconnected', since: this.o.now(), lastError: 'stopped', nextRetryAt: null });
    this.finish();
  }

  private setState(s: TunnelState): void {
    this.current = s;
    try {
      this.o.onState?.(s);
    } catch (err) {
      // Persisting state (SQLite busy beyond its timeout, disk full) must not kill the tunnel.
      this.log.error({ err: describeError(err), state: s.state }, 'could not record connection state');
    }
  }

  private attempt(): void {
    if (this.stopped) return;
    let credential: string | undefined;
    try {
      credential = this.o.credential();
    } catch (err) {
      this.ended(err, undefined);
      return;
    }
    if (credential === undefined) {
      this.stopped = true;
      this.setState({ state: 'disconnected', since: this.o.now(), lastError: 'NOT_REGISTERED: the local identity was removed', nextRetryAt: null });
      this.log.warn('identity removed (unregistered); not reconnecting');
      this.finish();
      return;
    }
    let targets: { urls: string[]; ca: string };
    try {
      targets = this.o.targets?.() ?? { urls: [this.o.serverUrl], ca: this.o.ca };
    } catch (err) {
      this.ended(err, undefined);
      return;
    }
    this.dialFirst(targets.urls, 0, targets.ca, credential);
  }

  /**
   * Dials `urls[i]`; when that fails for any reason but a refused credential, the next URL (the
   * previous server URL during a URL change), so a new URL that is not reachable yet costs nothing.
   */
  private dialFirst(urls: readonly string[], i: number, ca: string, credential: string): void {
    const url = urls[i] ?? this.o.serverUrl;
    this.setState({ state: 'connecting', since: this.o.now(), url });
    const agent = this.o.agentFor ? this.o.agentFor(url) : this.o.agent;
    dial({ serverUrl: url, role: this.role, credential, ca, agent, now: this.o.now, agentVersion: this.o.agentVersion }).then(
      ({ ws, rotateHint }) => this.run(ws, rotateHint, url),
      (err: unknown) => {
        const credentialRefused = err instanceof AgentError && err.exitCode === 4;
        if (!this.stopped && !credentialRefused && i + 1 < urls.length) {
          this.log.warn({ url, err: describeError(err), next: urls[i + 1] }, 'server URL failed; trying the previous one');
          this.dialFirst(urls, i + 1, ca, credential);
          return;
        }
        void this.refused(err, credential);
      },
    );
  }

  private async refused(err: unknown, credential: string): Promise<void> {
    if (err instanceof AgentError && err.code === 'CREDENTIAL_SUPERSEDED' && this.o.recoverCredential && !this.stopped) {
      if (await this.o.recoverCredential(credential)) {
        this.log.info('re-enrolled with the rotated-out credential; reconnecting');
        this.attempt();
        return;
      }
    }
    this.ended(err, undefined);
  }

  private run(ws: WebSocket, rotateHint: boolean, url = this.o.serverUrl): void {
    if (this.stopped) {
      ws.close(1001, 'agent stopping');
      return;
    }
    this.ws = ws;
    let closeCode = 0;
    let closeReason = '';
    ws.on('close', (code, reason) => {
      closeCode = code;
      closeReason = reason.toString('utf8');
    });
    const session = attachWebSocket(ws, {
      side: 'client',
      peer: { role: this.role, version: this.o.agentVersion, name: this.o.agentId },
      clock: this.o.sessionClock ?? systemClock,
      logger: this.log,
      limits: AGENT_SESSION_LIMITS,
    });
    this.session = session;
    if (this.o.onStream) session.on('stream', this.o.onStream);
    let readyAt: number | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    this.heartbeatSeq = 0;
    let factsTimer: NodeJS.Timeout | undefined;
    this.sessionEnded = new Promise<void>((resolve) => {
      session.once('close', (info: SessionCloseInfo) => {
        clearInterval(heartbeat);
        clearInterval(factsTimer);
        this.session = undefined;
        this.ws = undefined;
        resolve();
        const upFor = readyAt === undefined ? undefined : this.o.now() - readyAt;
        this.ended(describeClose(info, closeCode, closeReason), upFor);
      });
    });
    session.once('ready', () => {
      readyAt = this.o.now();
      this.downSince = undefined;
      this.connections++;
      this.lastFacts = undefined;
      this.setState({ state: 'connected', since: readyAt, url });
      this.lastLoggedError = undefined;
      this.log.info({ protocol: ws.protocol, url }, 'tunnel connected');
      void this.sendFacts(session);
      if (this.o.heartbeatIntervalMs !== undefined) {
        heartbeat = setInterval(() => {
          session.sendMessage('heartbeat', { seq: this.heartbeatSeq++, sentAt: this.o.now(), uptimeSeconds: process.uptime(), outbox: 0 });
        }, this.o.heartbeatIntervalMs);
        heartbeat.unref();
      }
      factsTimer = setInterval(() => void this.sendFacts(session), this.o.factsRefreshMs ?? LIMITS.factsRefreshMs);
      factsTimer.unref();
      this.o.onConnected?.({ rotateHint });
    });
  }

  private heartbeatSeq = 0;

  /**
   * Tells the server that `queued` statuses wait in this role's outbox, so it drains them now
   * instead of at its idle period (the fleet role after a pass or a drift correction queued one).
   * Dropped while disconnected: the server drains on every reconnect anyway.
   */
  notifyOutbox(queued: number): void {
    const session = this.session;
    if (session?.state !== 'open' || queued <= 0) return;
    session.sendMessage('heartbeat', { seq: this.heartbeatSeq++, sentAt: this.o.now(), outbox: queued });
  }

  /** Sends facts when they changed since the last send on this session. */
  private async sendFacts(session: Session): Promise<void> {
    try {
      const facts = await this.o.facts();
      if (session.state !== 'open') return;
      if (this.lastFacts && factsEqual(this.lastFacts, facts)) return;
      // A change is re-sent at most every factsMinResendMs (free memory and disk drift on a busy
      // host); the first facts of a session go at once (issue 12: idle wire cost).
      if (this.lastFacts && this.o.now() - this.lastFactsAt < (this.o.factsMinResendMs ?? LIMITS.factsMinResendMs)) return;
      if (session.sendMessage('facts', facts)) {
        this.lastFacts = facts;
        this.lastFactsAt = this.o.now();
      }
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'could not collect or send facts');
    }
  }

  private ended(err: unknown, upForMs: number | undefined): void {
    if (this.stopped) return;
    this.backoffState = afterDisconnect(this.backoffState, this.o.backoff, upForMs);
    // A refused credential will not fix itself quickly: retry at the cap (another process may
    // rotate it, or an admin re-registers) instead of hammering the server. Superseded means a
    // newer tunnel of ours exists (api.md: do nothing); retrying only at the cap keeps two copies
    // of one role from taking the tunnel from each other in a tight loop. A version outside the
    // server's window changes only when one side is upgraded: retry at the cap too (decision 1011).
    const refused = err instanceof AgentError && (err.exitCode === 4 || err.exitCode === 5 || err.code === 'TUNNEL_SUPERSEDED' || err.code === 'AGENT_VERSION_UNSUPPORTED');
    if (err instanceof AgentError && err.code === 'CLUSTER_DELETED') this.o.onClusterDeleted?.();
    if (refused) this.backoffState = { attempt: this.o.backoff.maxExponent };
    const retryAfter = err instanceof AgentError ? err.retryAfterMs : undefined;
    const delay = backoffDelay(this.backoffState, this.o.backoff, this.o.random, retryAfter);
    const now = this.o.now();
    this.downSince ??= now;
    const lastError = describeError(err);
    this.setState({ state: 'disconnected', since: this.downSince, lastError, nextRetryAt: now + delay, retryInMs: delay });
    const level = lastError === this.lastLoggedError ? 'debug' : refused ? 'error' : 'warn';
    this.lastLoggedError = lastError;
    this.log[level]({ err: lastError, retryInMs: delay, attempt: this.backoffState.attempt, upForMs }, 'tunnel down; will retry');
    this.retryTimer = setTimeout(() => this.attempt(), delay);
  }
}
