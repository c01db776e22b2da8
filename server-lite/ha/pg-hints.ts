// Hints over PostgreSQL LISTEN/NOTIFY (issue 17, decision 1120). LISTEN needs one connection that
// stays open, so it is a dedicated client outside the pool (a pooled connection is handed to other
// queries and recycled). When that connection drops (database restart, network, a terminated
// backend) it is opened again with a growing delay and every channel is LISTENed again; the bus
// then tells every listener that hints may have been missed. NOTIFY goes through the pool: the
// database delivers it to every listening session when the sending transaction commits.
import pg from 'pg';
import type { Logger } from 'pino';
import type { Clock as TimerClock, TimerHandle } from '../../protocol/index.ts';
import type { HintChannel, HintTransport } from './hints.ts';

export interface PgHintsOptions {
  /** The datastore URL (the same database as the pool). */
  url: string;
  /** NOTIFY through the store's pool. */
  run: (sql: string, args: string[]) => Promise<unknown>;
  /** Names the listening session in pg_stat_activity (`drover-hints <replica>`). */
  replicaId: string;
  deliver: (channel: string, message: string) => void;
  resynced: () => void;
  timers: TimerClock;
  /** First reconnect delay; doubles up to MAX_RECONNECT_MS. */
  reconnectMs: number;
  log: Logger;
}

const MAX_RECONNECT_MS = 5_000;
const PREFIX = 'drover_';

/** The PostgreSQL channel of a hint channel (names are fixed identifiers: no quoting needed beyond this check). */
export function pgChannel(channel: string): string {
  if (!/^[a-z][a-z_]{0,39}$/.test(channel)) throw new RangeError(`not a hint channel name: ${channel}`);
  return `${PREFIX}${channel}`;
}

export class PgHints implements HintTransport {
  readonly #o: PgHintsOptions;
  readonly #channels = new Set<HintChannel>();
  #client: pg.Client | undefined;
  #connecting = false;
  #everConnected = false;
  #delay: number;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(o: PgHintsOptions) {
    this.#o = o;
    this.#delay = o.reconnectMs;
  }

  /** Whether the LISTEN connection is up now. */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  start(): void {
    void this.#connect();
  }

  async send(channel: HintChannel, message: string): Promise<void> {
    await this.#o.run('SELECT pg_notify(?, ?)', [pgChannel(channel), message]);
  }

  listen(channel: HintChannel): void {
    if (this.#channels.has(channel)) return;
    this.#channels.add(channel);
    const c = this.#client;
    if (c) c.query(`LISTEN ${pgChannel(channel)}`).catch((err: unknown) => this.#lost(c, err as Error));
  }

  async #connect(): Promise<void> {
    if (this.#stopped || this.#connecting || this.#client) return;
    this.#connecting = true;
    const c = new pg.Client({ connectionString: this.#o.url, application_name: `drover-hints ${this.#o.replicaId}`, keepAlive: true, connectionTimeoutMillis: 5_000 });
    c.on('error', (err) => this.#lost(c, err));
    c.on('end', () => this.#lost(c));
    c.on('notification', (n) => {
      if (n.channel.startsWith(PREFIX)) this.#o.deliver(n.channel.slice(PREFIX.length), n.payload ?? '');
    });
    try {
      await c.connect();
      for (const ch of this.#channels) await c.query(`LISTEN ${pgChannel(ch)}`);
      if (this.#stopped) {
        await c.end().catch(() => undefined);
        return;
      }
      this.#client = c;
      this.#delay = this.#o.reconnectMs;
      const again = this.#everConnected;
      this.#everConnected = true;
      this.#o.log.info({ channels: [...this.#channels] }, again ? 'hint listener: listening again' : 'hint listener: listening');
      // Whatever was sent while we were not listening is lost: listeners look once.
      if (again) this.#o.resynced();
    } catch (err) {
      c.removeAllListeners('end');
      c.on('error', () => undefined);
      await c.end().catch(() => undefined);
      this.#o.log.warn({ err: (err as Error).message, retryInMs: this.#delay }, 'hint listener cannot connect (polling goes on)');
      this.#retry();
    } finally {
      this.#connecting = false;
    }
  }

  #lost(c: pg.Client, err?: Error): void {
    if (this.#client !== c) return;
    this.#client = undefined;
    c.removeAllListeners('end');
    c.on('error', () => undefined);
    void c.end().catch(() => undefined);
    if (this.#stopped) return;
    this.#o.log.warn({ err: err?.message, retryInMs: this.#delay }, 'hint listener connection lost (polling goes on)');
    this.#retry();
  }

  #retry(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = this.#o.timers.setTimeout(() => {
      this.#timer = undefined;
      void this.#connect();
    }, this.#delay);
    this.#delay = Math.max(this.#o.reconnectMs, Math.min(this.#delay * 2, MAX_RECONNECT_MS));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    const c = this.#client;
    this.#client = undefined;
    if (c) {
      c.removeAllListeners('end');
      c.on('error', () => undefined);
      await c.end().catch(() => undefined);
    }
  }
}
