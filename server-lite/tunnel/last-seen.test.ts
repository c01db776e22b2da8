// LastSeen (issue 12): new agents are written at the next flush; agents already written are
// written again once moved by the resolution, found by a scan at most every quarter resolution;
// an exact flush writes everything newer than the store.
import t from 'tap';
import { LastSeen } from './last-seen.ts';
import type { Store } from '../store/store.ts';

function fakeStore(): { store: Store; writes: Array<Array<{ agentId: string; at: number }>> } {
  const writes: Array<Array<{ agentId: string; at: number }>> = [];
  const store = { touch: async (entries: Array<{ agentId: string; at: number }>) => void writes.push([...entries]) } as unknown as Store;
  return { store, writes };
}

t.test('fresh agents at once, known ones when moved by the resolution', async (t) => {
  const { store, writes } = fakeStore();
  const seen = new LastSeen(60_000);
  seen.mark('a', 1_000);
  seen.mark('b', 1_000);
  t.equal(await seen.flush(store), 2, 'both new: written');
  seen.mark('a', 31_000);
  t.equal(await seen.flush(store), 0, 'moved 30 s: not yet');
  seen.mark('a', 61_000);
  t.equal(await seen.flush(store), 1, 'moved 60 s: written');
  t.same(writes.at(-1), [{ agentId: 'a', at: 61_000 }]);
  seen.mark('c', 61_500);
  t.equal(await seen.flush(store), 1, 'a new agent is not held back by the scan period');
  t.equal(seen.merge('b', null), 1_000);
  seen.mark('b', 62_000);
  t.equal(await seen.flush(store, true), 1, 'exact: everything newer than the store');
  t.same(writes.at(-1), [{ agentId: 'b', at: 62_000 }]);
});

t.test('known agents are scanned at most every quarter resolution', async (t) => {
  const { store } = fakeStore();
  const seen = new LastSeen(60_000);
  seen.mark('a', 0);
  seen.mark('b', 10_000);
  await seen.flush(store);
  seen.mark('a', 60_000);
  seen.mark('b', 60_000);
  t.equal(await seen.flush(store), 1, 'a scan at 60 s: a moved 60 s, b only 50 s');
  seen.mark('b', 70_000);
  t.equal(await seen.flush(store), 0, 'b moved 60 s, but marks moved only 10 s since the last scan: no scan');
  seen.mark('b', 75_000);
  t.equal(await seen.flush(store), 1, 'marks moved 15 s: scanned, b written');
  t.equal(await seen.flush(store, true), 0, 'nothing newer than the store');
});
