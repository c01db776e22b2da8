// The replica's internal listener (issue 17, `--advertise-address`): TLS that requires a client
// certificate from the server CA naming a replica (peer-tls.ts). Each connection carries one
// request line (peer-header.ts): `open` pipes the connection into a new stream on a local agent
// tunnel, which is how a request for a cluster whose tunnel sits here reaches it from any replica;
// `kick` asks this replica to run a cluster's syncs (RBAC) because its tunnel sits here; `close`
// closes an agent's tunnels here (it was revoked or deleted through another replica).
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { SessionRegistry } from '../tunnel/session-registry.ts';
import { encodeLine, LineReader, parseRequest, type PeerAnswer, type PeerRequest } from './peer-header.ts';
import { isReplicaCertificate, type PeerTls } from './peer-tls.ts';

export interface PeerServerOptions {
  tls: PeerTls;
  sessions: SessionRegistry;
  log: Logger;
  kick: (clusterId: string) => void;
  /** How long a connection may take to send its request line. */
  headerTimeoutMs: number;
}

export function createPeerServer(o: PeerServerOptions): Server {
  const server = createServer({
    key: o.tls.keyPem, cert: o.tls.certPem, ca: o.tls.caPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3',
    // A forwarded request's end must not end the answer coming back (HTTP over the stream).
    allowHalfOpen: true,
  }, (socket: TLSSocket) => {
    const cn = socket.getPeerCertificate().subject?.CN;
    if (!isReplicaCertificate(Array.isArray(cn) ? cn[0] : cn)) {
      o.log.warn({ remote: socket.remoteAddress }, 'peer link refused: the client certificate does not name a replica');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    const timer = setTimeout(() => socket.destroy(), o.headerTimeoutMs);
    const reader = new LineReader();
    const onData = (chunk: Buffer): void => {
      let got: { line: string; rest: Buffer } | undefined;
      let req: PeerRequest;
      try {
        got = reader.push(chunk);
        if (!got) return;
        req = parseRequest(got.line);
      } catch (err) {
        clearTimeout(timer);
        answer(socket, { ok: false, code: 'BAD_REQUEST', message: (err as Error).message });
        return;
      }
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      serve(req, got.rest, socket);
    };
    socket.on('data', onData);
  });

  function serve(req: PeerRequest, rest: Buffer, socket: TLSSocket): void {
    if (req.op === 'kick') {
      o.kick(req.clusterId);
      answer(socket, { ok: true });
      return;
    }
    if (req.op === 'close') {
      // The caller committed the revocation or deletion before asking: a reconnect is refused already.
      const closed = o.sessions.closeAgent(req.agentId, req.reason);
      if (closed > 0) o.log.info({ agentId: req.agentId, reason: req.reason, closed }, 'closed an agent’s tunnels at another replica’s request');
      answer(socket, closed > 0 ? { ok: true } : { ok: false, code: 'NOT_HERE', message: `no tunnel of agent ${req.agentId} on this replica` });
      return;
    }
    const session = o.sessions.get(req.agentId, req.role);
    if (!session?.openStream || (req.sessionId !== undefined && session.id !== req.sessionId)) {
      answer(socket, { ok: false, code: 'NOT_HERE', message: `the ${req.role} tunnel of agent ${req.agentId} is not on this replica (any more)` });
      return;
    }
    const stream = session.openStream(req.target, req.metadata);
    socket.write(encodeLine({ ok: true }));
    if (rest.length > 0) stream.write(rest);
    splice(socket, stream);
  }

  return server;
}

function answer(socket: TLSSocket, a: PeerAnswer): void {
  socket.end(encodeLine(a));
}

/** Both directions with backpressure and half-close; an error or close on one side ends the other. */
export function splice(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
  a.resume();
}
