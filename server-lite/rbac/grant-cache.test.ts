// GrantCache (decision 1150): served only under the generation it was loaded under, never an
// entry loaded before a write that committed before the lookup began; bounded.
import t from 'tap';
import { GrantCache, type Grants, type GrantSource } from './grant-cache.ts';

/** A store stand-in: grants per user, and a generation bumped with every change (as the triggers do). */
class FakeSource implements GrantSource {
  gen = 1;
  loads = 0;
  readonly held = new Map<string, Grants>();
  /** Runs between a load's start and its reading of the grants, when set (a write racing a load). */
  duringLoad: (() => void) | undefined;

  set(user: string, grants: Grants): void {
    this.held.set(user, grants);
    this.gen++;
  }
  async generation(): Promise<number> {
    return this.gen;
  }
  async load(user: string): Promise<Grants> {
    this.loads++;
    const race = this.duringLoad;
    this.duringLoad = undefined;
    race?.();
    await Promise.resolve();
    return this.held.get(user) ?? { roles: [], viaProject: false };
  }
}

t.test('a hit costs no load; any write in between forces one', async (t) => {
  const src = new FakeSource();
  const cache = new GrantCache(src);
  src.set('alice', { roles: ['read-only'], viaProject: false });
  t.same((await cache.get('alice', 'c-1')).roles, ['read-only']);
  t.same((await cache.get('alice', 'c-1')).roles, ['read-only']);
  t.equal(src.loads, 1, 'second lookup served from the cache');
  await cache.get('alice', 'c-2');
  t.equal(src.loads, 2, 'per cluster');
  src.set('alice', { roles: [], viaProject: false });
  t.same((await cache.get('alice', 'c-1')).roles, [], 'revoked: the very next lookup sees it');
  t.equal(src.loads, 3);
  src.set('bob', { roles: ['cluster-owner'], viaProject: false });
  await cache.get('alice', 'c-1');
  t.equal(src.loads, 4, 'a write about another user also invalidates (one generation for all)');
});

t.test('a write that lands while a load runs is not hidden by the loaded entry', async (t) => {
  const src = new FakeSource();
  const cache = new GrantCache(src);
  src.set('alice', { roles: ['cluster-owner'], viaProject: false });
  // The load reads the grants after the revocation committed, but under the generation read
  // before it: the entry may say either; the next lookup must load again and see the revocation.
  src.duringLoad = () => src.set('alice', { roles: [], viaProject: false });
  await cache.get('alice', 'c-1');
  t.same((await cache.get('alice', 'c-1')).roles, [], 'the lookup after the write sees it');
  t.equal(src.loads, 2);
});

t.test('an old generation read that resolves late does not let an older entry be served', async (t) => {
  // Lookups A and B run at once; B's generation read is older than A's (two pooled connections
  // answering out of order). Whatever either stores, a later lookup at the current generation
  // is served only something loaded under it.
  let gen = 5;
  let roles: Grants['roles'] = ['read-only'];
  const slow: Array<() => void> = [];
  const cache = new GrantCache({
    generation: async () => {
      const g = gen;
      if (g === 5) await new Promise<void>((r) => slow.push(r));
      return g;
    },
    load: async () => ({ roles, viaProject: false }),
  });
  const b = cache.get('alice', 'c-1'); // reads 5, held back
  gen = 6;
  roles = [];
  const a = await cache.get('alice', 'c-1'); // reads 6
  t.same(a.roles, []);
  for (const r of slow) r();
  await b;
  gen = 6;
  t.same((await cache.get('alice', 'c-1')).roles, [], 'at generation 6 only what was loaded under 6 is served');
});

t.test('bounded: the oldest entries go first', async (t) => {
  const src = new FakeSource();
  const cache = new GrantCache(src, 3);
  for (const c of ['a', 'b', 'c', 'd']) await cache.get('alice', c);
  t.equal(cache.size, 3);
  await cache.get('alice', 'd');
  t.equal(src.loads, 4, 'newest kept');
  await cache.get('alice', 'a');
  t.equal(src.loads, 5, 'oldest dropped');
});
