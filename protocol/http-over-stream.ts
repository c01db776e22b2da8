// HTTP/1.1 over a tunnel stream (SPEC.md §10): the server side sends one request (or upgrade)
// down a stream and gets the response back; the agent side serves streams with an ordinary
// request handler. Node's own HTTP parser does the parsing over the given Duplex (bounded by
// MAX_HTTP_HEAD_BYTES); this module opens no socket, so it stays inside protocol/'s no-I/O rule.
import http from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { TunnelError } from './errors.ts';
import { MAX_HTTP_HEAD_BYTES } from './limits.ts';

/** Stream target prefix for HTTP streams: `http:<service>`, e.g. `http:kube-apiserver`. */
export const HTTP_TARGET_PREFIX = 'http:';

/** Target of the cluster agent's Kubernetes API (the proxy's streams). */
export const KUBE_API_TARGET = 'http:kube-apiserver';

export interface StreamHttpRequest {
  method: string;
  /** Path and query, e.g. `/api/v1/namespaces?watch=1`. */
  path: string;
  headers?: http.OutgoingHttpHeaders;
  /** Request body: a stream (piped with backpressure), bytes, or nothing. */
  body?: Readable | Uint8Array | string;
  /** Ask to keep the stream for another exchange (`Connection: keep-alive`, SPEC.md §10, only to
   *  a peer with HTTP_KEEPALIVE); the stream's listeners of this call are removed once the
   *  response (or the failure) is known, so a reused stream does not collect them. */
  keepAlive?: boolean;
}

export type StreamHttpResult =
  /** An ordinary response; read `response` as a stream (status, headers, body). */
  | { kind: 'response'; response: http.IncomingMessage }
  /** The peer answered 101: `socket` is the raw duplex (the tunnel stream), `head` any bytes
   *  that arrived with the response head. */
  | { kind: 'upgrade'; response: http.IncomingMessage; socket: Duplex; head: Buffer };

function httpError(err: unknown): Error {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof TunnelError) return err;
  if (typeof code === 'string' && (code.startsWith('HPE_') || code === 'ERR_HTTP_HEADERS_SENT')) {
    return new TunnelError('HTTP_MALFORMED', `HTTP over stream failed: ${(err as Error).message}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Sends one HTTP/1.1 request over `stream` and resolves with the response or the upgrade. Unless
 * `keepAlive`, the stream carries this one exchange only (the request asks for `Connection: close`
 * unless it is an upgrade). Rejects with the stream's TunnelError on reset, HTTP_MALFORMED on a
 * bad response.
 */
export function requestOverStream(stream: Duplex, req: StreamHttpRequest): Promise<StreamHttpResult> {
  return new Promise((resolve, reject) => {
    const cr = http.request({
      method: req.method,
      path: req.path,
      headers: req.keepAlive === true ? { ...req.headers, connection: 'keep-alive' } : req.headers,
      createConnection: () => stream,
      maxHeaderSize: MAX_HTTP_HEAD_BYTES,
    });
    let settled = false;
    const settle = () => {
      settled = true;
      if (req.keepAlive === true) {
        stream.removeListener('error', fail);
        stream.removeListener('close', onClose);
      }
    };
    const fail = (err: unknown) => {
      if (settled) return;
      settle();
      reject(httpError(err));
    };
    // Every stream closes, most of them after the response: build the error (a stack capture)
    // only when it is needed.
    const onClose = () => {
      if (!settled) fail(new TunnelError('STREAM_CANCELLED', 'stream closed before the HTTP response arrived'));
    };
    cr.on('response', (response) => {
      settle();
      resolve({ kind: 'response', response });
    });
    cr.on('upgrade', (response, socket, head) => {
      settle();
      resolve({ kind: 'upgrade', response, socket, head });
    });
    cr.on('error', fail);
    stream.once('error', fail);
    stream.once('close', onClose);
    const body = req.body;
    if (body === undefined) cr.end();
    else if (typeof body === 'string' || body instanceof Uint8Array) cr.end(body);
    else {
      body.on('error', (err) => cr.destroy(err));
      body.pipe(cr);
    }
  });
}

export interface StreamHttpHandlers {
  /** Handles an ordinary request; the response goes back down the stream. */
  request(req: http.IncomingMessage, res: http.ServerResponse): void;
  /** Handles an upgrade (SPDY/WebSocket for exec, attach, port-forward); `socket` is the stream.
   *  Without it, upgrade requests are answered 501. */
  upgrade?(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface StreamHttpServer {
  /** Serves one stream: parses its request(s) and calls the handlers. */
  serve(stream: Duplex): void;
}

/**
 * The agent side: one `http.Server` that never listens, fed streams as connections. A request
 * head above MAX_HTTP_HEAD_BYTES or unparsable gets `400` and the stream is ended. A request that
 * asks to keep the stream (HTTP_KEEPALIVE, decision 1200) leaves it open for the next one, with no
 * idle timeout here: the opener alone closes idle streams, so it never reuses a stream this side
 * is closing (`keepAliveTimeout: 0`; the opener bounds its idle streams in count and time).
 */
export function createStreamHttpServer(handlers: StreamHttpHandlers): StreamHttpServer {
  const server = http.createServer({ maxHeaderSize: MAX_HTTP_HEAD_BYTES, requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0 }, handlers.request);
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (handlers.upgrade !== undefined) handlers.upgrade(req, socket, head);
    else socket.end('HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  return {
    serve(stream: Duplex) {
      server.emit('connection', stream);
    },
  };
}
