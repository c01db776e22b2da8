// The server's fleet store: statuses from an agent's outbox count once per (agent, seq) however
// often a batch is resent (a lost ack), manifest sets survive the blob round trip, and a failed
// render keeps the last good revision.
import t from 'tap';
import fc from 'fast-check';
import { join } from 'node:path';
import { FleetStore, STATUS_EVENTS_PER_AGENT } from './fleet-store.ts';

const status = (seq: number) => ({ seq, status: { bundle: 'web', revision: 'r1', appliedRevision: 'r1', state: seq % 2 === 0 ? 'Ready' : 'NotReady', message: `m${seq}` } });

t.test('fleet store: resent status batches count once and the newest seq wins', async (t) => {
  const dir = t.testdir();
  let n = 0;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 20 }), (batches) => {
      const store = new FleetStore(join(dir, `p${n++}.db`));
      store.assign('web', 'c1', 'r1', 0);
      let fresh = 0;
      let maxSeq = 0;
      // Each batch is seq start..start+len, possibly overlapping or older than what was stored.
      for (const [start, len] of batches) {
        const rows = Array.from({ length: len + 1 }, (_, i) => status(start + i));
        fresh += store.recordStatuses('a1', 'c1', rows, () => null, 0);
        maxSeq = Math.max(maxSeq, start + len);
      }
      const d = store.deployments({ bundle: 'web' })[0];
      const ok = store.lastSeq('a1') === maxSeq && d?.message === `m${maxSeq}` && fresh <= maxSeq;
      store.close();
      return ok;
    }),
    { numRuns: 50 },
  );
});

t.test('fleet store: a status about a forgotten deployment does not revive it', async (t) => {
  const store = new FleetStore(join(t.testdir(), 'f.db'));
  t.teardown(() => store.close());
  t.equal(store.recordStatuses('a1', 'c1', [status(1)], () => null, 0), 1, 'the seq is consumed');
  t.same(store.deployments(), [], 'no deployment row appears');
});

t.test('fleet store: manifest sets round-trip through blobs; a failed render keeps the good revision', async (t) => {
  const store = new FleetStore(join(t.testdir(), 's.db'));
  t.teardown(() => store.close());
  const big = 'x'.repeat(3 * 1024 * 1024);
  const { normaliseManifests } = await import('./manifest-set.ts');
  const real = normaliseManifests([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big', namespace: 'd' }, data: { v: big } }], { bundle: 'web' });
  store.putBundle('web', 'push', real.revision, {}, [{ clusterId: 'c1', set: real }], 1);
  const back = await store.manifestSet(real.revision);
  t.equal(back.objects.length, 1);
  t.equal((back.objects[0]?.object as { data: { v: string } }).data.v.length, big.length, 'a 3 MiB object survives chunking');
  const blobs = store.db.prepare('SELECT COUNT(*) FROM fleet_blobs').pluck().get() as number;
  t.ok(blobs >= 3, `stored as ${blobs} blobs, not one row`);
  store.putBundleError('web', 'push', { code: 'MANIFEST_INVALID', message: 'bad' }, 2);
  const b = store.bundle('web');
  t.equal(b?.revision, real.revision, 'the earlier revision stays');
  t.equal(b?.error?.code, 'MANIFEST_INVALID');
  t.same(store.targets('web'), [{ bundle: 'web', clusterId: 'c1', revision: real.revision }], 'and so do its targets');
});

t.test('fleet store: status events keep each agent\'s order, with its own time, once per seq, trimmed to the newest', async (t) => {
  const store = new FleetStore(join(t.testdir(), 'e.db'));
  t.teardown(() => store.close());
  store.assign('web', 'c1', 'r1', 0);
  store.assign('web', 'c2', 'r1', 0);
  const at = (seq: number) => ({ ...status(seq), createdAt: `2026-01-01T00:00:${String(seq % 60).padStart(2, '0')}.000Z` });
  store.recordStatuses('a1', 'c1', [at(2), at(1)], () => null, 100);
  store.recordStatuses('a1', 'c1', [at(2), at(3)], () => null, 200); // 2 resent after a lost ack
  store.recordStatuses('a2', 'c2', [at(1)], () => null, 150);
  const all = store.statusEvents('web', { limit: 100 });
  t.same(all.map((e) => `${e.clusterId}:${e.seq}`), ['c1:1', 'c1:2', 'c2:1', 'c1:3'], 'in the order stored; per agent in seq order; the resent 2 once');
  t.equal(all[0]?.at, '2026-01-01T00:00:01.000Z', 'the agent\'s own time is kept');
  t.same(store.statusEvents('web', { clusterId: 'c2', limit: 100 }).map((e) => e.seq), [1]);
  t.same(store.statusEvents('web', { limit: 2 }).map((e) => `${e.clusterId}:${e.seq}`), ['c2:1', 'c1:3'], 'a limit keeps the newest');

  const many = Array.from({ length: STATUS_EVENTS_PER_AGENT + 10 }, (_, i) => status(10 + i));
  store.recordStatuses('a1', 'c1', many, () => null, 300);
  const kept = store.statusEvents('web', { clusterId: 'c1', limit: 5000 });
  t.equal(kept.length, STATUS_EVENTS_PER_AGENT, 'trimmed per agent');
  t.equal(kept.at(-1)?.seq, 10 + STATUS_EVENTS_PER_AGENT + 9, 'the newest is kept');
  store.deleteBundle('web');
  t.same(store.statusEvents('web', { limit: 100 }), [], 'a deleted bundle takes its events');
});

t.test('fleet store: garbage collection drops sets nothing refers to and their unshared blobs, nothing else', async (t) => {
  const store = new FleetStore(join(t.testdir(), 'gc.db'));
  t.teardown(() => store.close());
  const { normaliseManifests } = await import('./manifest-set.ts');
  // Two 1.5 MiB objects: each revision is two blobs' worth; `shared` is identical in both.
  const shared = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace: 'd' }, data: { v: 's'.repeat(1536 * 1024) } };
  const set = (v: string) => normaliseManifests([shared, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'own', namespace: 'd' }, data: { v: v.repeat(1536 * 1024) } }], { bundle: 'web' });
  const [v1, v2, v3] = [set('1'), set('2'), set('3')];
  store.putBundle('web', 'push', v1.revision, {}, [{ clusterId: 'c1', set: v1 }, { clusterId: 'c2', set: v1 }], 0);
  store.assign('web', 'c1', v1.revision, 0);
  store.assign('web', 'c2', v1.revision, 0);
  store.acked('web', 'c2', v1.revision, 0);
  store.putBundle('web', 'push', v2.revision, {}, [{ clusterId: 'c1', set: v2 }, { clusterId: 'c2', set: v2 }], 0);
  store.assign('web', 'c1', v2.revision, 0);
  store.acked('web', 'c1', v2.revision, 0);
  store.putBundle('web', 'push', v3.revision, {}, [{ clusterId: 'c1', set: v3 }, { clusterId: 'c2', set: v3 }], 0);
  store.putPush('web', {}, Buffer.from('an archive'), ['web'], 'fp', 0);
  const blobsBefore = store.db.prepare('SELECT COUNT(*) FROM fleet_blobs').pluck().get() as number;

  t.same(store.collectGarbage(), { sets: 0, blobs: 0, bytes: 0 }, 'v1 is still what c2 holds, v2 what c1 holds, v3 the target');
  // c2 moves on to v3: nothing refers to v1 any more.
  store.assign('web', 'c2', v3.revision, 0);
  store.acked('web', 'c2', v3.revision, 0);
  const r = store.collectGarbage();
  t.equal(r.sets, 1, 'v1 dropped');
  t.ok(r.blobs >= 1 && r.bytes > 1024 * 1024, `its own blobs dropped (${r.blobs}, ${r.bytes} bytes)`);
  t.equal(store.db.prepare('SELECT COUNT(*) FROM fleet_blobs').pluck().get() as number, blobsBefore - r.blobs);
  await t.rejects(store.manifestSet(v1.revision), /no manifest set/);
  t.equal((await store.manifestSet(v2.revision)).revision, v2.revision, 'v2 (c1 still holds it) is intact, incl. the blobs it shares with v1');
  t.equal((await store.manifestSet(v3.revision)).revision, v3.revision);
  t.equal((await store.pushArchive('web')).toString(), 'an archive', 'pushed archives keep their blobs');
  t.same(store.collectGarbage(), { sets: 0, blobs: 0, bytes: 0 }, 'a second run finds nothing');
});

t.test('fleet store: bundle history records each new revision and each new render error, oldest first, bounded', async (t) => {
  const { normaliseManifests } = await import('./manifest-set.ts');
  const { HISTORY_PER_BUNDLE } = await import('./fleet-store.ts');
  const store = new FleetStore(join(t.testdir(), 'h.db'));
  t.teardown(() => store.close());
  const set = (v: string) => normaliseManifests([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'x' }, data: { v } }], { bundle: 'web' });
  const v1 = set('1');
  const v2 = set('2');
  store.putBundle('web', 'push', v1.revision, {}, [{ clusterId: 'c1', set: v1 }, { clusterId: 'c2', set: v1 }], 1);
  store.putBundle('web', 'push', v1.revision, {}, [{ clusterId: 'c1', set: v1 }], 2);
  store.putBundleError('web', 'push', { code: 'HELM_RENDER_FAILED', message: 'boom' }, 3);
  store.putBundleError('web', 'push', { code: 'HELM_RENDER_FAILED', message: 'boom' }, 4);
  store.putBundle('web', 'git:apps', v2.revision, { warnings: ['w'] }, [{ clusterId: 'c1', set: v2 }], 5);
  t.same(store.history('web'), [
    { revision: v1.revision, source: 'push', clusters: 2, error: null, warnings: 0, at: 1 },
    { revision: null, source: 'push', clusters: 0, error: { code: 'HELM_RENDER_FAILED', message: 'boom' }, warnings: 0, at: 3 },
    { revision: v2.revision, source: 'git:apps', clusters: 1, error: null, warnings: 1, at: 5 },
  ], 'the same revision or the same error again adds nothing');
  for (let i = 0; i < HISTORY_PER_BUNDLE + 5; i++) store.putBundleError('web', 'push', { code: 'X', message: `e${i}` }, 10 + i);
  t.equal(store.history('web').length, HISTORY_PER_BUNDLE);
  t.equal(store.history('web').at(-1)?.error?.message, `e${HISTORY_PER_BUNDLE + 4}`);
  store.deleteBundle('web');
  t.same(store.history('web'), []);
});
