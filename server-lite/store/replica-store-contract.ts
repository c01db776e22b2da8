// The ReplicaStore contract as tap subtests, run against every implementation (SQLite here; the
// PostgreSQL store runs the same function), so newest-wins and lease semantics cannot drift apart.
import type { Test } from 'tap';
import type { ReplicaSessionRow, ReplicaStore } from './replica-store.ts';

const row = (over: Partial<ReplicaSessionRow>): ReplicaSessionRow => ({
  agentId: 'a1', role: 'cluster', clusterId: 'c1', nodeId: 'n1', replicaId: 'r1', sessionId: 's1', since: 100, ...over,
});

export function replicaStoreContract(t: Test, open: () => Promise<ReplicaStore>): void {
  t.test('replicas: a tunnel row routes only while its replica heartbeats', async (t) => {
    const s = await open();
    await s.heartbeatReplica({ id: 'r1', address: '127.0.0.1:1001', startedAt: 0, heartbeatAt: 1000 });
    t.same(await s.registerSessions([row({})]), []);
    const route = await s.routeCluster('c1', 'cluster', 900);
    t.equal(route?.replicaId, 'r1');
    t.equal(route?.address, '127.0.0.1:1001');
    t.equal(route?.epoch, 1);
    t.equal(await s.routeCluster('c1', 'cluster', 1001), undefined, 'a stale replica routes nowhere');
    t.equal(await s.routeCluster('c1', 'fleet', 900), undefined, 'other roles are other rows');
    t.equal((await s.routeAgent('a1', 'cluster', 900))?.sessionId, 's1');
    t.equal((await s.routeNode('n1', 'cluster', 900))?.sessionId, 's1', 'a node routes to its agent’s tunnel');
    t.equal(await s.routeNode('n1', 'node', 900), undefined, 'of that role only');
    t.equal(await s.routeNode('n1', 'cluster', 1001), undefined, 'and only on a live replica');
    t.same(await s.remoteAgents('r2', 900), [{ agentId: 'a1', replicaId: 'r1', heartbeatAt: 1000 }], 'status views see agents held elsewhere');
    t.same(await s.remoteAgents('r1', 900), [], 'but not their own');
    t.same(await s.remoteClusters('cluster', 'r2', 900), ['c1'], 'clusters with a tunnel of the role elsewhere (fleet rollout gates)');
    t.same([await s.remoteClusters('fleet', 'r2', 900), await s.remoteClusters('cluster', 'r1', 900), await s.remoteClusters('cluster', 'r2', 1001)], [[], [], []], 'not another role, not our own, not a stale replica');
    t.same(await s.expireReplicas(1001), ['r1']);
    t.same(await s.sessionsOf('r1'), [], 'expiry takes the dead replica’s tunnel rows too');
    t.same(await s.listReplicas(), []);
  });

  t.test('replicas: newest wins across replicas and the epoch moves on takeover', async (t) => {
    const s = await open();
    for (const id of ['r1', 'r2']) await s.heartbeatReplica({ id, address: `${id}:1`, startedAt: 0, heartbeatAt: 1000 });
    await s.registerSessions([row({ sessionId: 's1', since: 100 })]);
    t.same(await s.registerSessions([row({ replicaId: 'r2', sessionId: 's2', since: 200 })]), []);
    const route = await s.routeAgent('a1', 'cluster', 0);
    t.equal(route?.replicaId, 'r2');
    t.equal(route?.epoch, 2);
    t.same(await s.sessionsOf('r1'), [], 'r1 learns from the store that it lost the agent');
    const late = row({ sessionId: 's0', since: 50 });
    t.same(await s.registerSessions([late]), [late], 'an older session arriving late loses');
    await s.unregisterSessions([{ agentId: 'a1', role: 'cluster', sessionId: 's1' }]);
    t.equal((await s.routeAgent('a1', 'cluster', 0))?.sessionId, 's2', "the old session's close leaves its successor");
    await s.registerSessions([row({ replicaId: 'r2', sessionId: 's2', since: 200 })]);
    t.equal((await s.routeAgent('a1', 'cluster', 0))?.epoch, 2, 're-registering the same session is idempotent');
    await s.removeReplica('r2');
    t.equal(await s.routeAgent('a1', 'cluster', 0), undefined);
  });

  t.test('leases: one holder at a time, taken over once expired, released at once', async (t) => {
    const s = await open();
    t.ok(await s.acquireLease('git-poll', 'r1', 1000, 5000));
    t.notOk(await s.acquireLease('git-poll', 'r2', 2000, 5000), 'held by r1');
    t.ok(await s.acquireLease('git-poll', 'r1', 3000, 5000), 'renewed by its holder');
    t.equal((await s.getLease('git-poll'))?.expiresAt, 8000);
    t.notOk(await s.acquireLease('git-poll', 'r2', 7999, 5000));
    t.ok(await s.acquireLease('git-poll', 'r2', 8001, 5000), 'expired: r2 takes it');
    t.same(await s.getLease('git-poll'), { name: 'git-poll', holder: 'r2', expiresAt: 13001, epoch: 2 });
    await s.releaseLease('git-poll', 'r1');
    t.equal((await s.getLease('git-poll'))?.holder, 'r2', 'only the holder releases');
    await s.releaseLease('git-poll', 'r2');
    t.ok(await s.acquireLease('git-poll', 'r1', 8002, 5000), 'released: free at once');
  });
}
