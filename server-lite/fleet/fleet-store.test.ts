// The server's fleet store: statuses from an agent's outbox count once per (agent, seq) however
// often a batch is resent (a lost ack), manifest sets survive the blob round trip, and a failed
// render keeps the last good revision.
import t from 'tap';
import fc from 'fast-check';
import { join } from 'node:path';
import { FleetStore } from './fleet-store.ts';

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
