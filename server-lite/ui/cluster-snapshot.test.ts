import t from 'tap';
import { ClusterSnapshot, MAX_AGE_MS } from './cluster-snapshot.ts';
import { ManualClock } from '../../protocol/index.ts';
import { LastSeen } from '../tunnel/last-seen.ts';
import { SessionRegistry } from '../tunnel/session-registry.ts';
import { DEFAULT_HEALTH_POLICY } from '../health.ts';
import type { ServerContext } from '../context.ts';
import type { ClusterRecord } from '../store/store.ts';

// Only what clusterView and the snapshot read; the store counts how often it is asked.
function context(clusters: ClusterRecord[]) {
  const calls = { clusters: 0, agents: 0 };
  const store = {
    async listClusters() {
      calls.clusters += 1;
      // A build takes a turn of the event loop, so both concurrent callers arrive while it runs.
      await new Promise((r) => setImmediate(r));
      return clusters.map((c) => ({ ...c }));
    },
    async listAgents() {
      calls.agents += 1;
      return [];
    },
  };
  const clock = new ManualClock(Date.parse('2026-12-05T12:00:00Z'));
  const ctx = { store, lastSeen: new LastSeen(), sessions: new SessionRegistry(), clock, health: DEFAULT_HEALTH_POLICY } as unknown as ServerContext;
  return { ctx, calls, clock };
}

t.test('cluster snapshot: concurrent callers share one build; a fresh one is reused; an old or invalidated one is rebuilt', async (t) => {
  const clusters: ClusterRecord[] = [{ id: 'c-1', name: 'one', labels: { env: 'prod' }, createdAt: 0, kubernetesVersion: 'v1.34.4' }];
  const { ctx, calls, clock } = context(clusters);
  const snap = new ClusterSnapshot(ctx);
  const [a, b] = await Promise.all([snap.get(), snap.get()]);
  t.equal(calls.clusters, 1, 'one build for two concurrent callers');
  t.equal(a, b);
  t.same(a.map((c) => [c.id, c.state, c.labels.env]), [['c-1', 'Offline', 'prod']]);
  await snap.get();
  t.equal(calls.clusters, 1, 'reused while younger than MAX_AGE_MS');
  snap.invalidate();
  await snap.get();
  t.equal(calls.clusters, 2, 'rebuilt after invalidate');
  clock.advance(MAX_AGE_MS - 1);
  await snap.get();
  t.equal(calls.clusters, 2, 'still fresh just before MAX_AGE_MS');
  clock.advance(1);
  await snap.get();
  t.equal(calls.clusters, 3, 'rebuilt once MAX_AGE_MS old');
  t.equal(calls.agents, 3);
});

t.test('cluster snapshot: reads only the agents\' liveness columns when the store offers them', async (t) => {
  const clusters: ClusterRecord[] = [{ id: 'c-1', name: 'one', labels: {}, createdAt: 0, kubernetesVersion: null }];
  const { ctx } = context(clusters);
  const store = ctx.store as unknown as Record<string, unknown>;
  store.listAgents = async () => {
    throw new Error('full agent rows (with facts) are not needed for cluster states');
  };
  store.listAgentLiveness = async () => [{ id: 'a-1', clusterId: 'c-1', nodeId: 'n-1', revokedAt: null, removedAt: null, lastSeen: Date.parse('2026-12-05T11:59:59Z') }];
  const [view] = await new ClusterSnapshot(ctx).get();
  t.equal(view?.nodeCount, 1);
  t.equal(view?.lastSeen, '2026-12-05T11:59:59.000Z');
});
