import t from 'tap';
import { createFleetStore } from './store.ts';
import { memoryDb } from './test-fixtures.ts';
import type { ObjectRef } from './types.ts';

const cm = (name: string): ObjectRef => ({ group: '', version: 'v1', kind: 'ConfigMap', namespace: 'x', name });

t.test('journal: steps are marked done with their inventory change, and the plan survives a reopen', async (t) => {
  const db = memoryDb();
  const store = createFleetStore(db);
  store.journal.begin('d1', 'r1', [{ action: 'apply', ref: cm('a') }, { action: 'apply', ref: cm('b') }], new Date(0));
  store.journal.applied('d1', 0, { ...cm('a'), uid: 'u-a' });
  t.same(store.inventory('d1').map((e) => [e.name, e.uid]), [['a', 'u-a']], 'inventory holds the applied object');
  const again = createFleetStore(db).journal.open('d1');
  t.equal(again?.revision, 'r1');
  t.same(again?.steps.map((s) => [s.ref.name, s.done]), [['a', true], ['b', false]], 'resume starts at b');
  t.same(store.journal.unfinished(), ['d1']);
});

t.test('journal: finishing closes it and records the applied revision; prune removes from inventory', async (t) => {
  const store = createFleetStore(memoryDb());
  store.journal.begin('d1', 'r1', [{ action: 'apply', ref: cm('a') }], new Date(0));
  store.journal.applied('d1', 0, { ...cm('a'), uid: 'u' });
  store.journal.finish('d1', 'r1', new Date(1000));
  t.equal(store.journal.open('d1'), undefined);
  t.same(store.journal.unfinished(), []);
  t.equal(store.applied('d1').revision, 'r1');
  t.equal(store.applied('d1').appliedAt, new Date(1000).toISOString());
  store.journal.begin('d1', 'r2', [{ action: 'prune', ref: cm('a') }], new Date(2000));
  store.journal.pruned('d1', 0, cm('a'));
  t.same(store.inventory('d1'), []);
});

t.test('journal: a new plan replaces an unfinished one of an older revision', async (t) => {
  const store = createFleetStore(memoryDb());
  store.journal.begin('d1', 'r1', [{ action: 'apply', ref: cm('a') }, { action: 'apply', ref: cm('b') }], new Date(0));
  store.journal.begin('d1', 'r2', [{ action: 'apply', ref: cm('c') }], new Date(0));
  t.same(store.journal.open('d1')?.steps.map((s) => s.ref.name), ['c']);
});
