// An https.Agent that reaches the server through an HTTP CONNECT proxy: it asks the proxy for a
// raw TCP tunnel to host:port, then runs TLS (with the pinned CA) inside it, so the proxy sees
// only ciphertext. Used both for plain HTTPS requests and as the `agent` of the ws client.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { LIMITS } from './limits.ts';

export class ConnectProxyAgent extends https.Agent {
  readonly proxy: URL;

  constructor(proxy: URL, opts: https.AgentOptions = {}) {
    super({ keepAlive: false, ...opts });
    this.proxy = proxy;
  }

  override createConnection(
    options: http.ClientRequestArgs & tls.ConnectionOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const done = callback ?? (() => {});
    const host = String(options.host ?? options.hostname ?? 'localhost');
    const port = Number(options.port ?? 443);
    const authority = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
    const headers: Record<string, string> = { host: authority };
    if (this.proxy.username) {
      const user = decodeURIComponent(this.proxy.username);
      const pass = decodeURIComponent(this.proxy.password);
      headers['proxy-authorization'] = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    }
    const req = http.request({
      host: this.proxy.hostname,
      port: Number(this.proxy.port || 80),
      method: 'CONNECT',
      path: authority,
      headers,
      timeout: LIMITS.connectTimeoutMs,
      agent: false,
    });
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      req.destroy();
      // Agents expect a stream even on failure; an already-failed socket carries the error.
      done(err, new net.Socket());
    };
    req.once('timeout', () => fail(Object.assign(new Error(`proxy ${this.proxy.host} CONNECT timed out`), { code: 'ETIMEDOUT' })));
    req.once('error', (err) => fail(err));
    req.once('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        fail(Object.assign(new Error(`proxy ${this.proxy.host} refused CONNECT ${authority}: ${res.statusCode} ${res.statusMessage ?? ''}`.trim()), { code: 'EPROXY' }));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      settled = true;
      socket.setTimeout(0);
      // Only options the caller actually set: tls.connect rejects explicit `undefined`s.
      const tlsOptions: tls.ConnectionOptions = {
        socket,
        host,
        rejectUnauthorized: options.rejectUnauthorized !== false,
      };
      const servername = options.servername || (net.isIP(host) ? undefined : host);
      if (servername) tlsOptions.servername = servername;
      if (options.ca !== undefined) tlsOptions.ca = options.ca;
      if (options.ALPNProtocols !== undefined) tlsOptions.ALPNProtocols = options.ALPNProtocols;
      if (options.checkServerIdentity !== undefined) tlsOptions.checkServerIdentity = options.checkServerIdentity;
      let tlsSocket: tls.TLSSocket;
      try {
        tlsSocket = tls.connect(tlsOptions);
      } catch (err) {
        socket.destroy();
        settled = false;
        fail(err as Error);
        return;
      }
      done(null, tlsSocket);
    });
    req.end();
    return undefined;
  }
}
