// Group commit, as used for agent statuses: several agents' drains in one transaction, each told
// its own count after the commit; a malformed batch fails only its own caller.
import t from 'tap';
import { join } from 'node:path';
import { SqliteFleetStore as FleetStore } from './sqlite-fleet-store.ts';
import { GroupCommit } from './group-commit.ts';

type Drain = { agentId: string; clusterId: string; rows: Parameters<FleetStore['recordStatusesNow']>[2] };
const statuses = (store: FleetStore) => new GroupCommit(store.db, 5, (d: Drain) => store.recordStatusesNow(d.agentId, d.clusterId, d.rows, () => null, 0));

const row = (seq: number, state = 'Ready') => ({ seq, status: { bundle: 'web', revision: 'r1', appliedRevision: 'r1', state, message: `m${seq}` } });

t.test('group commit: drains submitted together are one commit, each resolved with its own count', async (t) => {
  const store = new FleetStore(join(t.testdir(), 'b.db'));
  t.teardown(() => store.close());
  for (const c of ['c1', 'c2', 'c3']) await store.assign('web', c, 'r1', 0);
  const b = statuses(store);
  const results = await Promise.all([
    b.submit({ agentId: 'a1', clusterId: 'c1', rows: [row(1), row(2)] }),
    b.submit({ agentId: 'a2', clusterId: 'c2', rows: [row(1)] }),
    b.submit({ agentId: 'a1', clusterId: 'c1', rows: [row(2), row(3, 'NotReady')] }), // 2 resent: counted once
  ]);
  t.same(results, [2, 1, 1]);
  t.equal(b.commits, 1, 'one transaction');
  t.equal((await store.deployments({ clusterId: 'c1' }))[0]?.state, 'NotReady', 'the newest seq wins');
  t.equal(await store.lastSeq('a1'), 3);
});

t.test('group commit: a malformed batch fails alone; the others are stored', async (t) => {
  const store = new FleetStore(join(t.testdir(), 'm.db'));
  t.teardown(() => store.close());
  await store.assign('web', 'c1', 'r1', 0);
  await store.assign('web', 'c2', 'r1', 0);
  const b = statuses(store);
  const bad = [{ seq: 1, status: { bundle: 'web', revision: 'r1', state: 'Ready', message: 42 as unknown as string } }];
  const [good, broken] = await Promise.allSettled([b.submit({ agentId: 'a1', clusterId: 'c1', rows: [row(1)] }), b.submit({ agentId: 'a2', clusterId: 'c2', rows: bad })]);
  t.same(good, { status: 'fulfilled', value: 1 });
  t.equal(broken.status, 'rejected');
  t.equal(await store.lastSeq('a2'), 0, 'nothing of the bad batch stored, its seq not consumed');
  t.equal((await store.deployments({ clusterId: 'c1' }))[0]?.state, 'Ready');
});
