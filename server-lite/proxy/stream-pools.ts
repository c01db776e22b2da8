// The proxy's keep-alive stream pools (decision 1200): one HttpStreamPool per agent session, made
// on the session's first pooled request (an idle tunnel holds none), only for sessions whose agent
// listed HTTP_KEEPALIVE. Held weakly by the session handle: when the session closes its streams
// close, the pool lets go of them, and the pool goes with the handle.
import { HttpStreamPool, type Clock, type TunnelStream } from '../../protocol/index.ts';
import type { CapabilityName } from '../../protocol/index.ts';

export interface PoolableSession {
  openStream?(target: string, metadata?: Record<string, string>): TunnelStream;
  has?(cap: CapabilityName): boolean;
}

/** Streaming answers (watches, `logs -f`) keep a stream of their own for as long as they run. */
export function isStreamingRequest(path: string): boolean {
  const q = path.indexOf('?');
  if (q < 0) return false;
  const params = new URLSearchParams(path.slice(q + 1));
  const on = (v: string | null) => v !== null && v !== '0' && v !== 'false';
  return on(params.get('watch')) || on(params.get('follow'));
}

export function streamPools(clock: Clock, opts: { maxIdlePerTarget?: number; idleTimeoutMs?: number } = {}) {
  const pools = new WeakMap<PoolableSession, HttpStreamPool>();
  return {
    /** The session's pool, or undefined when its agent cannot keep streams. */
    poolFor(session: PoolableSession): HttpStreamPool | undefined {
      const open = session.openStream;
      if (open === undefined || session.has?.('HTTP_KEEPALIVE') !== true) return undefined;
      let pool = pools.get(session);
      if (pool === undefined) {
        pool = new HttpStreamPool({ open: (t, m) => open.call(session, t, m), clock, ...opts });
        pools.set(session, pool);
      }
      return pool;
    },
  };
}
