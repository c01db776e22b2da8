// Group commit of agent statuses: several agents' drains in one transaction, each told its own
// count after the commit; a malformed batch fails only its own caller.
import t from 'tap';
import { join } from 'node:path';
import { FleetStore } from './fleet-store.ts';
import { StatusBatcher } from './status-batcher.ts';

const row = (seq: number, state = 'Ready') => ({ seq, status: { bundle: 'web', revision: 'r1', appliedRevision: 'r1', state, message: `m${seq}` } });

t.test('status batcher: drains submitted together are one commit, each resolved with its own count', async (t) => {
  const store = new FleetStore(join(t.testdir(), 'b.db'));
  t.teardown(() => store.close());
  for (const c of ['c1', 'c2', 'c3']) store.assign('web', c, 'r1', 0);
  const b = new StatusBatcher(store, 5);
  const results = await Promise.all([
    b.submit('a1', 'c1', [row(1), row(2)], () => null),
    b.submit('a2', 'c2', [row(1)], () => null),
    b.submit('a1', 'c1', [row(2), row(3, 'NotReady')], () => null), // 2 resent: counted once
  ]);
  t.same(results, [2, 1, 1]);
  t.equal(b.commits, 1, 'one transaction');
  t.equal(store.deployments({ clusterId: 'c1' })[0]?.state, 'NotReady', 'the newest seq wins');
  t.equal(store.lastSeq('a1'), 3);
});

t.test('status batcher: a malformed batch fails alone; the others are stored', async (t) => {
  const store = new FleetStore(join(t.testdir(), 'm.db'));
  t.teardown(() => store.close());
  store.assign('web', 'c1', 'r1', 0);
  store.assign('web', 'c2', 'r1', 0);
  const b = new StatusBatcher(store, 5);
  const bad = [{ seq: 1, status: { bundle: 'web', revision: 'r1', state: 'Ready', message: 42 as unknown as string } }];
  const [good, broken] = await Promise.allSettled([b.submit('a1', 'c1', [row(1)], () => null), b.submit('a2', 'c2', bad, () => null)]);
  t.same(good, { status: 'fulfilled', value: 1 });
  t.equal(broken.status, 'rejected');
  t.equal(store.lastSeq('a2'), 0, 'nothing of the bad batch stored, its seq not consumed');
  t.equal(store.deployments({ clusterId: 'c1' })[0]?.state, 'Ready');
});
