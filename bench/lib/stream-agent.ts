// An http.Agent whose connections are tunnel streams: keep-alive HTTP/1.1 over streams relayed
// to a TCP target, the way Go's http.Transport uses remotedialer's Dialer. It makes the latency
// comparison with remotedialer like-for-like (connections reused, not one stream per request).

import http from 'node:http';
import type { Duplex } from 'node:stream';

/** The socket methods http.Agent calls on pooled connections; a stream has no TCP to tune and no
 *  handle to (un)ref, so they are no-ops. The Agent's own keepSocketAlive/reuseSocket stay in
 *  charge (reuseSocket also removes the free-socket error listener, which must not pile up). */
function socketLike(s: Duplex): Duplex {
  return Object.assign(s, {
    ref: () => s,
    unref: () => s,
    setKeepAlive: () => s,
    setNoDelay: () => s,
    // The pool sets an idle timeout on free sockets; idle streams cost nothing, so none is kept.
    setTimeout: () => s,
  });
}

export class StreamAgent extends http.Agent {
  readonly #open: () => Promise<Duplex>;

  constructor(open: () => Promise<Duplex>, maxSockets: number) {
    super({ keepAlive: true, maxSockets });
    this.#open = open;
  }

  override createConnection(
    _options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    this.#open().then(
      (s) => callback?.(null, socketLike(s)),
      (err: unknown) => callback?.(err instanceof Error ? err : new Error(String(err)), undefined as unknown as Duplex),
    );
    return undefined;
  }
}
