// An http.Agent whose connections are tunnel streams: keep-alive HTTP/1.1 over streams relayed
// to a TCP target, the way Go's http.Transport uses remotedialer's Dialer. It makes the latency
// comparison with remotedialer like-for-like (connections reused, not one stream per request).

import http from 'node:http';
import type { Duplex } from 'node:stream';

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
      (s) => callback?.(null, s),
      (err: unknown) => callback?.(err instanceof Error ? err : new Error(String(err)), undefined as unknown as Duplex),
    );
    return undefined;
  }

  // A stream is not a socket: no TCP keep-alive and no ref/unref to call; keeping it is enough.
  override keepSocketAlive(_socket: Duplex): boolean {
    return true;
  }

  override reuseSocket(_socket: Duplex, _request: http.ClientRequest): void {}
}
