// Which proxied requests may use a pooled keep-alive stream, and which sessions get a pool.
import t from 'tap';
import { ManualClock } from '../../protocol/index.ts';
import { isStreamingRequest, streamPools } from './stream-pools.ts';

t.test('stream pools: watches and follows keep a stream of their own', async (t) => {
  for (const p of ['/api/v1/pods?watch=1', '/api/v1/pods?watch=true', '/api/v1/namespaces/a/pods/p/log?follow=true', '/api/v1/pods?limit=5&watch=1']) t.ok(isStreamingRequest(p), p);
  for (const p of ['/api/v1/pods', '/api/v1/pods?watch=0', '/api/v1/pods?watch=false', '/api/v1/pods?labelSelector=watch%3D1', '/api/v1/namespaces/a/pods/p/log?follow=false']) t.notOk(isStreamingRequest(p), p);
});

t.test('stream pools: only for sessions that listed HTTP_KEEPALIVE, one per session, made on first use', async (t) => {
  const pools = streamPools(new ManualClock());
  const openStream = () => {
    throw new Error('not opened here');
  };
  const yes = { openStream, has: (c: string) => c === 'HTTP_KEEPALIVE' };
  t.equal(pools.poolFor({ openStream, has: () => false }), undefined, 'old agent');
  t.equal(pools.poolFor({ openStream }), undefined, 'no capability information (an HA peer session)');
  t.equal(pools.poolFor({ has: () => true }), undefined, 'no streams');
  const p = pools.poolFor(yes);
  t.ok(p);
  t.equal(pools.poolFor(yes), p, 'the same pool for the same session');
  t.not(pools.poolFor({ ...yes }), p, 'another session, another pool');
  t.equal(p?.idleCount(), 0);
});
