// A tunnel that sits on another replica, seen from this one (issue 17): a SessionHandle whose
// streams are peer links to the owning replica (peer-stream.ts), so the proxy (watch, exec, logs
// -f included) and agent calls use it like a local tunnel. Not registered locally: closing it is
// the owner's business (newest wins is decided in the database).
import type { TunnelStream } from '../../protocol/index.ts';
import type { SessionRoute } from '../store/replica-store.ts';
import type { SessionHandle } from '../tunnel/session-registry.ts';
import { PeerStream } from './peer-stream.ts';
import type { PeerTls } from './peer-tls.ts';

export interface RemoteSessionHandle extends SessionHandle {
  /** The replica that holds the tunnel. */
  replicaId: string;
}

export function remoteSession(route: SessionRoute, tls: PeerTls, connectTimeoutMs: number): RemoteSessionHandle {
  return {
    id: route.sessionId,
    agentId: route.agentId,
    clusterId: route.clusterId,
    nodeId: route.nodeId,
    role: route.role,
    since: route.since,
    remoteAddress: `replica ${route.replicaId}`,
    protocol: 'peer',
    replicaId: route.replicaId,
    close: () => {},
    openStream: (target, metadata = {}) =>
      // The peer stream is a Duplex like TunnelStream; consumers use only the Duplex side of it
      // (requestOverStream, pipe, destroy), never the session's flow-control internals.
      new PeerStream(route.address, tls, { v: 1, op: 'open', agentId: route.agentId, role: route.role, sessionId: route.sessionId, target, metadata }, connectTimeoutMs) as unknown as TunnelStream,
  };
}
