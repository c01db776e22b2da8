// Tunnel routes on a real SQLite store: connects and closes within a flush window are one batch,
// a heartbeat vouches for all of a replica's tunnels, and a replica closes a tunnel another replica
// took over (newest wins) on its next beat.
import t from 'tap';
import pino from 'pino';
import { SqliteStore } from '../store/sqlite-store.ts';
import { ManualClock } from '../../protocol/index.ts';
import type { ReplicaStore } from '../store/replica-store.ts';
import type { SessionInfo } from '../tunnel/session-registry.ts';
import { TunnelRoutes } from './tunnel-routes.ts';
import { HA_TIMINGS } from './limits.ts';

const info = (agentId: string, id: string, since: number): SessionInfo => ({
  id, agentId, clusterId: `c-${agentId}`, nodeId: `n-${agentId}`, role: 'cluster', since, remoteAddress: '127.0.0.1', protocol: 'drover.v1',
});

t.test('tunnel routes: batched writes, one heartbeat for all, takeovers closed', async (t) => {
  const store = new SqliteStore(':memory:');
  t.teardown(() => store.close());
  let writes = 0;
  const real: ReplicaStore = store.replicas;
  const counted = new Proxy(real, {
    get(target, prop: keyof ReplicaStore) {
      if (prop === 'registerSessions') {
        return (rows: Parameters<ReplicaStore['registerSessions']>[0]) => {
          writes++;
          return target.registerSessions(rows);
        };
      }
      const v = target[prop];
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  let now = 1_000_000;
  const superseded: string[] = [];
  const routes = (replicaId: string, s: ReplicaStore) => new TunnelRoutes({
    store: s, replicaId, address: () => `${replicaId}:1`, now: () => now, timers: new ManualClock(), timings: HA_TIMINGS, log: pino({ level: 'silent' }),
    supersede: (agentId, _role, sessionId) => superseded.push(`${replicaId}:${agentId}:${sessionId}`),
  });
  const a = routes('ra', counted);
  const b = routes('rb', store.replicas);
  for (let i = 0; i < 100; i++) a.added(info(`a${i}`, `s${i}`, now));
  a.removed(info('a99', 's99', now));
  await a.flush();
  t.equal(writes, 1, '100 connects in one window are one write');
  await a.beat();
  await b.beat();
  t.equal((await store.replicas.routeCluster('c-a1', 'cluster', now - 1))?.replicaId, 'ra');
  t.equal(await store.replicas.routeCluster('c-a99', 'cluster', now - 1), undefined, 'connected and closed in one window: no row');
  t.equal(b.remoteSeen('a1'), now, "the other replica sees a1 alive through ra's heartbeat");

  now += 10;
  b.added(info('a1', 's-new', now));
  await b.flush();
  await a.beat();
  t.same(superseded, ['ra:a1:s1'], 'ra closes its tunnel of a1: it reconnected to rb');

  now += HA_TIMINGS.staleAfterMs + 1;
  await b.beat();
  t.equal(await store.replicas.routeCluster('c-a2', 'cluster', now - HA_TIMINGS.staleAfterMs), undefined, 'ra stopped beating: its routes expired');
  t.equal(b.remoteSeen('a2'), undefined);
});

t.test('tunnel routes: a database outage neither closes tunnels nor keeps the replica unready', async (t) => {
  const store = new SqliteStore(':memory:');
  t.teardown(() => store.close());
  let down = false;
  const flaky = new Proxy(store.replicas, {
    get(target, prop: keyof ReplicaStore) {
      const v = target[prop];
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => (down ? Promise.reject(new Error('connection refused')) : (v as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  let now = 2_000_000;
  const superseded: string[] = [];
  const make = (replicaId: string, s: ReplicaStore) => new TunnelRoutes({
    store: s, replicaId, address: () => `${replicaId}:1`, now: () => now, timers: new ManualClock(), timings: HA_TIMINGS, log: pino({ level: 'silent' }),
    supersede: (agentId, _role, sessionId) => superseded.push(`${replicaId}:${agentId}:${sessionId}`),
  });
  const a = make('ra', flaky);
  const b = make('rb', store.replicas);
  a.added(info('a1', 's1', now));
  a.added(info('a2', 's2', now));
  await a.flush();
  await a.beat();
  t.ok(a.healthy(HA_TIMINGS.unreadyAfterMs), 'ready while beating');

  down = true;
  now += HA_TIMINGS.heartbeatMs;
  await a.beat();
  t.equal(a.failedBeats, 1);
  t.ok(a.healthy(HA_TIMINGS.unreadyAfterMs), 'one failed beat is within the bound');
  now += HA_TIMINGS.staleAfterMs;
  await a.beat();
  t.notOk(a.healthy(HA_TIMINGS.unreadyAfterMs), 'not ready once the heartbeat failed beyond the bound');
  // Meanwhile rb (still reaching the database) counted ra dead and expired its rows, and a2
  // reconnected to rb.
  await b.beat();
  t.equal(await store.replicas.routeAgent('a1', 'cluster', 0), undefined, "ra's rows expired");
  b.added(info('a2', 's2-new', now));
  await b.flush();

  down = false;
  now += HA_TIMINGS.heartbeatMs;
  await a.beat();
  t.ok(a.healthy(HA_TIMINGS.unreadyAfterMs), 'ready again after one good beat');
  t.equal(a.failedBeats, 0);
  t.equal((await store.replicas.routeAgent('a1', 'cluster', now - 1))?.sessionId, 's1', 'the tunnel that stayed open here is routed again');
  t.same(superseded, ['ra:a2:s2'], 'only the tunnel that moved to rb is closed here');
});

t.test('tunnel routes: a routes hint checks takeovers before the next beat, many hints are one check', async (t) => {
  const store = new SqliteStore(':memory:');
  t.teardown(() => store.close());
  const clock = new ManualClock(3_000_000);
  let reads = 0;
  const counted = new Proxy(store.replicas, {
    get(target, prop: keyof ReplicaStore) {
      if (prop === 'sessionsOf') reads++;
      const v = target[prop];
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const superseded: string[] = [];
  const make = (replicaId: string, s: ReplicaStore) => new TunnelRoutes({
    store: s, replicaId, address: () => `${replicaId}:1`, now: () => clock.now(), timers: clock, timings: HA_TIMINGS, log: pino({ level: 'silent' }),
    supersede: (agentId, _role, sessionId) => superseded.push(`${replicaId}:${agentId}:${sessionId}`),
  });
  const a = make('ra', counted);
  const b = make('rb', store.replicas);
  a.added(info('a1', 's1', clock.now()));
  await a.flush();
  await a.beat();
  await b.beat();
  b.added(info('a1', 's1-new', clock.now() + 1));
  await b.flush();
  reads = 0;
  for (let i = 0; i < 5; i++) a.checkSoon();
  clock.advance(HA_TIMINGS.flushMs);
  await t.resolves(a.stop().then(() => undefined), 'the check ran and stop waited for it');
  t.same(superseded, ['ra:a1:s1'], 'the takeover is acted on without a beat');
  t.equal(reads, 1, 'five hints, one check');
});
