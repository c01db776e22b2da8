// Wake-up hints between server replicas (issue 17, decision 1120): "something you may care about
// changed in the shared database, look now instead of at your next poll". A hint carries no state
// and may be lost; every receiver keeps polling as the safety net, so a lost hint costs latency,
// never correctness. One bus per server process, always present: with SQLite (one server, or
// replicas on one WAL file) it has no transport and `notify` does nothing; replicas on PostgreSQL
// attach LISTEN/NOTIFY (pg-hints.ts). Callers (the fleet and plan stores once they are shared):
//   ctx.hints?.notify('fleet', bundleName)      after a committed change
//   ctx.hints?.on('fleet', (h) => sync.kick())  on start-up; h.from === null after a reconnect
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

/** Hint channels (one PostgreSQL channel each, `drover_<name>`). Add a name here to use a new one. */
export const HINT_CHANNELS = Object.freeze({
  /** Tunnel routes written (connects, closes, takeovers): other replicas check theirs now. */
  routes: 'routes',
  /** A lease was released (clean stop): another replica may take it now. Payload: the lease name. */
  lease: 'lease',
  /** Fleet data changed (bundles, deployments, sources): replicas deliver to their own tunnels. */
  fleet: 'fleet',
  /** Node plans changed. */
  plans: 'plans',
  /** Releases or upgrade rollouts changed. */
  upgrades: 'upgrades',
});
export type HintChannel = (typeof HINT_CHANNELS)[keyof typeof HINT_CHANNELS];

/** PostgreSQL's NOTIFY payload limit is 8000 bytes; hints are names and ids, far below. */
export const MAX_HINT_PAYLOAD = 4000;

export interface Hint {
  payload: string;
  /**
   * The replica that sent it; null when the transport reconnected and hints may have been missed
   * meanwhile (listeners should look once, as on a hint).
   */
  from: string | null;
}

/** What carries hints between replicas (PostgreSQL LISTEN/NOTIFY; none with SQLite). */
export interface HintTransport {
  /** Best effort: resolves when handed to the database, rejects when it is unreachable. */
  send(channel: HintChannel, message: string): Promise<void>;
  /** Starts listening on a channel (again after each reconnect). */
  listen(channel: HintChannel): void;
  stop(): Promise<void>;
}

/** The message on the wire: the sender and the payload, so a replica skips its own hints. */
export function encodeHint(from: string, payload: string): string {
  return JSON.stringify({ f: from, p: payload });
}

export function decodeHint(message: string): { from: string; payload: string } | undefined {
  try {
    const v: unknown = JSON.parse(message);
    if (typeof v !== 'object' || v === null) return undefined;
    const { f, p } = v as Record<string, unknown>;
    return typeof f === 'string' && typeof p === 'string' ? { from: f, payload: p } : undefined;
  } catch {
    return undefined;
  }
}

export class HintBus {
  readonly #log: Logger;
  readonly #listeners = new Map<HintChannel, Set<(h: Hint) => void>>();
  readonly #counter: Counter<'channel' | 'event'> | undefined;
  #transport: HintTransport | undefined;
  #self = '';

  constructor(log: Logger, registry?: Registry) {
    this.#log = log.child({ component: 'hints' });
    this.#counter = registry
      ? new Counter({ name: 'drover_server_ha_hints_total', help: 'HA wake-up hints by channel and event (sent, received, resync after a reconnect)', labelNames: ['channel', 'event'], registers: [registry] })
      : undefined;
  }

  /** Whether hints leave this process (false: SQLite, or not a replica). */
  get connected(): boolean {
    return this.#transport !== undefined;
  }

  /** Connects the bus to replicas (HA on PostgreSQL); `self` is this replica's id. */
  attach(transport: HintTransport, self: string): void {
    this.#transport = transport;
    this.#self = self;
    for (const channel of this.#listeners.keys()) transport.listen(channel);
  }

  /** Tells the other replicas; never throws, never waits (a lost hint is caught up by polling). */
  notify(channel: HintChannel, payload = ''): void {
    const t = this.#transport;
    if (!t) return;
    if (Buffer.byteLength(payload) > MAX_HINT_PAYLOAD) payload = '';
    this.#counter?.inc({ channel, event: 'sent' });
    t.send(channel, encodeHint(this.#self, payload)).catch((err: unknown) => this.#log.debug({ channel, err: (err as Error).message }, 'hint not sent (polling catches up)'));
  }

  /** Calls fn for each hint from another replica on the channel; returns the unsubscribe. */
  on(channel: HintChannel, fn: (h: Hint) => void): () => void {
    let set = this.#listeners.get(channel);
    if (!set) {
      set = new Set();
      this.#listeners.set(channel, set);
      this.#transport?.listen(channel);
    }
    set.add(fn);
    return () => void set.delete(fn);
  }

  /** From the transport: a message arrived on a channel. */
  deliver(channel: string, message: string): void {
    const h = decodeHint(message);
    if (!h || h.from === this.#self) return;
    const set = this.#listeners.get(channel as HintChannel);
    if (!set) return;
    this.#counter?.inc({ channel, event: 'received' });
    this.#call(set, { payload: h.payload, from: h.from });
  }

  /** From the transport: it reconnected; hints may have been lost meanwhile. */
  resynced(): void {
    for (const [channel, set] of this.#listeners) {
      this.#counter?.inc({ channel, event: 'resync' });
      this.#call(set, { payload: '', from: null });
    }
  }

  #call(set: Set<(h: Hint) => void>, h: Hint): void {
    for (const fn of set) {
      try {
        fn(h);
      } catch (err) {
        this.#log.error({ err }, 'a hint listener failed');
      }
    }
  }

  async stop(): Promise<void> {
    const t = this.#transport;
    this.#transport = undefined;
    await t?.stop();
  }
}
