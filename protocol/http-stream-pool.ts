// Keep-alive HTTP over tunnel streams (decision 1200, SPEC.md §10.2): one pool per session on the
// opening side keeps streams whose exchange ended cleanly and sends the next request of the same
// target down one of them, instead of opening a stream per request. Used only when both HELLOs list
// HTTP_KEEPALIVE; the receiver then serves a stream until the opener closes it. Pooled streams
// are opened with the OPEN metadata `drover-keepalive: 1` and no per-caller metadata: whatever a
// request needs to say about its caller travels in that request's headers (the Kubernetes proxy:
// KUBE_IDENTITY_HEADERS), so nothing of one request is inherited by the next.
//
// The race of reuse (the receiver closing an idle stream just as it is reused) is avoided by
// design: the receiver never closes an idle keep-alive stream itself (createStreamHttpServer,
// keepAliveTimeout 0), only the opener's pool does (idle timeout, bound). What is left (the
// receiver resetting a stream for its own reasons) is covered by one retry: a GET or HEAD without
// a body that fails on a reused stream before any response byte arrived is sent again once on a
// fresh stream. Anything else fails as it would on a fresh stream.
import type { Duplex } from 'node:stream';
import type { Clock } from './clock.ts';
import { IdlePool } from './idle-pool.ts';
import { requestOverStream, type StreamHttpRequest, type StreamHttpResult } from './http-over-stream.ts';

/** OPEN metadata marking a keep-alive stream (value `1`). */
export const KEEPALIVE_METADATA = 'drover-keepalive';

/** On a keep-alive `http:kube-apiserver` stream, the caller the agent impersonates, per request
 *  (the same values as KUBE_IDENTITY_METADATA on a one-exchange stream). The server's proxy drops
 *  every client header starting with `x-drover-`, so only the server sets these. */
export const KUBE_IDENTITY_HEADERS = Object.freeze({ user: 'x-drover-user', groups: 'x-drover-groups' } as const);

export const HTTP_POOL_DEFAULTS = Object.freeze({
  /** Idle streams kept per target and session. */
  maxIdlePerTarget: 8,
  /** An idle stream is closed after this long (the peer keeps it until then). */
  idleTimeoutMs: 15_000,
});

export interface HttpStreamPoolOptions {
  /** Opens a stream on the session (its `openStream`). */
  open(target: string, metadata: Record<string, string>): Duplex;
  clock: Clock;
  maxIdlePerTarget?: number;
  idleTimeoutMs?: number;
}

export interface PooledExchange {
  result: StreamHttpResult;
  /** The stream this exchange runs on (an upgrade's raw duplex is `result.socket`). To give up on
   *  the exchange call `abort`, not `stream.destroy()`: once the response was read to its end the
   *  stream may be back in the pool, carrying someone else's request. */
  stream: Duplex;
  /** Destroys the stream while this exchange still holds it (it is then never reused); a no-op
   *  once the stream went back to the pool. */
  abort(): void;
  /** True when the stream had carried an earlier exchange. */
  reused: boolean;
}

export interface HttpStreamPoolStats {
  opened: number;
  reused: number;
  retried: number;
  idle: number;
}

/** Whether a failed request may be sent again: it changes nothing and carries no body. */
export function retryable(req: Pick<StreamHttpRequest, 'method' | 'body'>): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && req.body === undefined;
}

export class HttpStreamPool {
  readonly #open: HttpStreamPoolOptions['open'];
  readonly #idle: IdlePool<string, Duplex>;
  /** Listeners of an idle stream, to detach them when it is taken. */
  readonly #watch = new WeakMap<Duplex, () => void>();
  readonly #stats = { opened: 0, reused: 0, retried: 0 };

  constructor(o: HttpStreamPoolOptions) {
    this.#open = o.open;
    this.#idle = new IdlePool<string, Duplex>({
      maxIdlePerKey: o.maxIdlePerTarget ?? HTTP_POOL_DEFAULTS.maxIdlePerTarget,
      idleTimeoutMs: o.idleTimeoutMs ?? HTTP_POOL_DEFAULTS.idleTimeoutMs,
      clock: o.clock,
      close: (s) => {
        this.#unwatch(s);
        s.on('error', () => {});
        s.destroy();
      },
    });
  }

  /** Sends `req` to `target` on an idle stream or a new one (see the file comment for the retry).
   *  `signal`: aborting destroys the stream the request is on (it is then never reused). */
  async request(target: string, req: Omit<StreamHttpRequest, 'keepAlive'>, opts: { signal?: AbortSignal } = {}): Promise<PooledExchange> {
    let current: Duplex | undefined;
    const onAbort = () => current?.destroy();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const idle = opts.signal?.aborted === true ? undefined : this.#idle.take(target);
      if (idle !== undefined) {
        this.#unwatch(idle);
        this.#stats.reused++;
        current = idle;
        let answered = false;
        const onData = () => (answered = true);
        idle.once('data', onData);
        try {
          return { ...(await this.#exchange(target, idle, req)), stream: idle, reused: true };
        } catch (err) {
          idle.destroy();
          if (answered || !retryable(req) || opts.signal?.aborted === true) throw err;
          this.#stats.retried++;
        } finally {
          idle.removeListener('data', onData);
        }
      }
      const stream = this.#open(target, { [KEEPALIVE_METADATA]: '1' });
      this.#stats.opened++;
      current = stream;
      if (opts.signal?.aborted === true) stream.destroy();
      try {
        return { ...(await this.#exchange(target, stream, req)), stream, reused: false };
      } catch (err) {
        stream.destroy();
        throw err;
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  stats(): HttpStreamPoolStats {
    return { ...this.#stats, idle: this.#idle.idleCount() };
  }

  /** Idle streams of `target` (or all). */
  idleCount(target?: string): number {
    return this.#idle.idleCount(target);
  }

  /** Closes every idle stream; streams in use finish their exchange and are then closed. */
  close(): void {
    this.#idle.close();
  }

  async #exchange(target: string, stream: Duplex, req: Omit<StreamHttpRequest, 'keepAlive'>): Promise<{ result: StreamHttpResult; abort: () => void }> {
    const result = await requestOverStream(stream, { ...req, keepAlive: true });
    let held = true;
    // Node's HTTP client emits 'free' on the stream once the exchange is over and both sides
    // agreed to keep it (request written, response read to its end, no `Connection: close`). A
    // stream that is destroyed, upgraded or answered with close never gets it.
    if (result.kind === 'response') {
      const onFree = () => {
        held = false;
        stream.removeListener('close', onClose);
        if (!stream.destroyed && stream.writable && stream.readable) this.#park(target, stream);
      };
      const onClose = () => stream.removeListener('free', onFree);
      stream.once('free', onFree);
      stream.once('close', onClose);
    }
    return { result, abort: () => void (held && stream.destroy()) };
  }

  #park(target: string, stream: Duplex): void {
    // While idle nothing may arrive: data, an end or an error means the stream is no good.
    const bad = () => {
      this.#unwatch(stream);
      this.#idle.remove(stream);
      stream.destroy();
    };
    const onError = () => bad();
    stream.on('data', bad);
    stream.on('end', bad);
    stream.on('error', onError);
    stream.on('close', bad);
    this.#watch.set(stream, () => {
      stream.removeListener('data', bad);
      stream.removeListener('end', bad);
      stream.removeListener('error', onError);
      stream.removeListener('close', bad);
    });
    this.#idle.put(target, stream);
  }

  #unwatch(stream: Duplex): void {
    const off = this.#watch.get(stream);
    if (off === undefined) return;
    this.#watch.delete(stream);
    off();
  }
}
