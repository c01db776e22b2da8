// The caller's end of a peer link (issue 17): a Duplex the proxy and agent calls use exactly like
// a local tunnel stream. It dials the owning replica (mutual TLS, peer-tls.ts), sends the request
// line and the stream's bytes right behind it; it reads only after the owner answered `ok`.
// A refusal (the tunnel moved) or a failed dial destroys the stream with a message saying so.
import { Duplex } from 'node:stream';
import { connect, type TLSSocket } from 'node:tls';
import { encodeLine, LineReader, parseAnswer, type PeerRequest } from './peer-header.ts';
import type { PeerTls } from './peer-tls.ts';

export interface PeerAddress {
  host: string;
  port: number;
}

export function splitAddress(address: string): PeerAddress {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address);
  const port = Number(m?.[2]);
  if (!m?.[1] || !(port >= 0 && port < 65536)) throw new RangeError(`not HOST:PORT: ${address}`);
  return { host: m[1], port };
}

/**
 * The last TLS session per peer address: resuming it (TLS 1.3 PSK) skips the certificate exchange
 * and verification on both ends for every forwarded stream after the first. Bounded by the number
 * of replicas.
 */
const sessions = new Map<string, Buffer>();

export class PeerStream extends Duplex {
  readonly #socket: TLSSocket;
  #ready = false;
  /** The request line is out: writes go straight behind it (no round trip waiting for `ok`). */
  #headerSent = false;
  #queued: Array<{ chunk: Buffer; cb: (err?: Error | null) => void }> = [];
  #finalCb: ((err?: Error | null) => void) | undefined;

  constructor(address: string, tls: PeerTls, request: PeerRequest, connectTimeoutMs: number) {
    super({ allowHalfOpen: true });
    const { host, port } = splitAddress(address);
    const what = request.op === 'open' ? `the ${request.role} tunnel of agent ${request.agentId}` : request.op === 'close' ? `tunnels of agent ${request.agentId}` : `cluster ${request.clusterId}`;
    this.#socket = connect({
      host, port, key: tls.keyPem, cert: tls.certPem, ca: tls.caPem, minVersion: 'TLSv1.3',
      // Peers are named by their replica certificate, not by the host they were dialled at.
      checkServerIdentity: () => undefined,
      ...(sessions.has(address) ? { session: sessions.get(address) } : {}),
    });
    this.#socket.on('session', (ticket: Buffer) => sessions.set(address, ticket));
    this.#socket.setNoDelay(true);
    const timer = setTimeout(() => this.destroy(new Error(`the replica at ${address} holding ${what} did not answer within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    this.#socket.once('secureConnect', () => {
      this.#socket.write(encodeLine(request));
      this.#headerSent = true;
      // Stream bytes follow the request line at once; the owner reads them after the line. If it
      // refuses, they are dropped with the link and the caller sees the refusal.
      for (const q of this.#queued) this.#socket.write(q.chunk, q.cb);
      this.#queued = [];
      if (this.#finalCb) this.#socket.end(this.#finalCb);
    });
    this.#socket.on('error', (err) => this.destroy(new Error(`the link to the replica at ${address} holding ${what} failed: ${err.message}`)));
    const reader = new LineReader();
    const onHeader = (chunk: Buffer): void => {
      try {
        const got = reader.push(chunk);
        if (!got) return;
        clearTimeout(timer);
        const a = parseAnswer(got.line);
        if (!a.ok) throw new Error(`the replica at ${address} refused: ${a.message} (${a.code})`);
        this.#socket.off('data', onHeader);
        this.#ready = true;
        if (got.rest.length > 0) this.push(got.rest);
        this.#socket.on('data', (c: Buffer) => {
          if (!this.push(c)) this.#socket.pause();
        });
        this.#socket.on('end', () => this.push(null));
      } catch (err) {
        this.destroy(err as Error);
      }
    };
    this.#socket.on('data', onHeader);
    this.#socket.on('close', () => {
      clearTimeout(timer);
      if (!this.#ready) this.destroy(new Error(`the replica at ${address} closed the link before answering for ${what}`));
      else if (!this.destroyed) this.push(null);
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#headerSent) this.#socket.write(chunk, cb);
    else this.#queued.push({ chunk, cb });
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.#headerSent) this.#socket.end(() => cb());
    else this.#finalCb = () => cb();
  }

  override _read(): void {
    if (this.#ready) this.#socket.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#socket.destroy();
    cb(err);
  }
}

/** Sends a one-shot request (kick) and resolves when the peer answered ok. */
export function peerRequest(address: string, tls: PeerTls, request: PeerRequest, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = new PeerStream(address, tls, request, timeoutMs);
    s.on('error', reject);
    s.on('end', () => {
      resolve();
      s.destroy();
    });
    s.resume();
    s.end();
  });
}
