// The server's fleet store, as a contract both implementations keep (issue 17: SQLite's fleet.db
// and PostgreSQL, test/pg/fleet-store-backends.ts): statuses from an agent's outbox count once per
// (agent, seq) however often a batch is resent (a lost ack), manifest sets survive the blob round
// trip, a failed render keeps the last good revision, garbage collection and history. PostgreSQL
// also: two replicas' stores on one database see each other's changes through the shared counters,
// and drain the same agent without storing a status twice.
import t from 'tap';
import fc from 'fast-check';
import { fleetBackends } from '../../test/pg/fleet-store-backends.ts';
import { HISTORY_PER_BUNDLE, STATUS_EVENTS_PER_AGENT } from './fleet-store.ts';
import { normaliseManifests } from './manifest-set.ts';

const status = (seq: number) => ({ seq, status: { bundle: 'web', revision: 'r1', appliedRevision: 'r1', state: seq % 2 === 0 ? 'Ready' : 'NotReady', message: `m${seq}` } });

for (const backend of fleetBackends(t)) {
  t.test(`${backend.name}: resent status batches count once and the newest seq wins`, async (t) => {
    const store = await backend.open();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 20 }), async (batches) => {
        // One store, a new agent and cluster per run.
        const agent = `a${++run}`;
        const cluster = `c${run}`;
        await store.assign('web', cluster, 'r1', 0);
        let fresh = 0;
        let maxSeq = 0;
        // Each batch is seq start..start+len, possibly overlapping or older than what was stored.
        for (const [start, len] of batches) {
          const rows = Array.from({ length: len + 1 }, (_, i) => status(start + i));
          fresh += await store.recordStatuses(agent, cluster, rows, () => null, 0);
          maxSeq = Math.max(maxSeq, start + len);
        }
        const d = (await store.deployments({ bundle: 'web', clusterId: cluster }))[0];
        return (await store.lastSeq(agent)) === maxSeq && d?.message === `m${maxSeq}` && fresh <= maxSeq;
      }),
      { numRuns: backend.name === 'sqlite' ? 50 : 15 },
    );
  });

  t.test(`${backend.name}: a status about a forgotten deployment does not revive it`, async (t) => {
    const store = await backend.open();
    t.equal(await store.recordStatuses('a1', 'c1', [status(1)], () => null, 0), 1, 'the seq is consumed');
    t.same(await store.deployments(), [], 'no deployment row appears');
  });

  t.test(`${backend.name}: manifest sets round-trip through blobs; a failed render keeps the good revision`, async (t) => {
    const store = await backend.open();
    const big = 'x'.repeat(3 * 1024 * 1024);
    const real = normaliseManifests([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big', namespace: 'd' }, data: { v: big } }], { bundle: 'web' });
    await store.putBundle('web', 'push', real.revision, {}, [{ clusterId: 'c1', set: real }], 1);
    const back = await store.manifestSet(real.revision);
    t.equal(back.objects.length, 1);
    t.equal((back.objects[0]?.object as { data: { v: string } }).data.v.length, big.length, 'a 3 MiB object survives chunking');
    const blobs = await backend.count(store, 'fleet_blobs');
    t.ok(blobs >= 3, `stored as ${blobs} blobs, not one row`);
    await store.putBundleError('web', 'push', { code: 'MANIFEST_INVALID', message: 'bad' }, 2);
    const b = await store.bundle('web');
    t.equal(b?.revision, real.revision, 'the earlier revision stays');
    t.equal(b?.error?.code, 'MANIFEST_INVALID');
    t.same(await store.targets('web'), [{ bundle: 'web', clusterId: 'c1', revision: real.revision }], 'and so do its targets');
    await t.rejects(store.manifestSet('nope'), /no manifest set/);
  });

  t.test(`${backend.name}: status events keep each agent's order, with its own time, once per seq, trimmed to the newest`, async (t) => {
    const store = await backend.open();
    await store.applyPlan([{ bundle: 'web', clusterId: 'c1', revision: 'r1' }, { bundle: 'web', clusterId: 'c2', revision: 'r1' }], [], 0);
    const at = (seq: number) => ({ ...status(seq), createdAt: `2026-01-01T00:00:${String(seq % 60).padStart(2, '0')}.000Z` });
    await store.recordStatuses('a1', 'c1', [at(2), at(1)], () => null, 100);
    await store.recordStatuses('a1', 'c1', [at(2), at(3)], () => null, 200); // 2 resent after a lost ack
    await store.recordStatuses('a2', 'c2', [at(1)], () => null, 150);
    const all = await store.statusEvents('web', { limit: 100 });
    t.same(all.map((e) => `${e.clusterId}:${e.seq}`), ['c1:1', 'c1:2', 'c2:1', 'c1:3'], 'in the order stored; per agent in seq order; the resent 2 once');
    t.equal(all[0]?.at, '2026-01-01T00:00:01.000Z', 'the agent\'s own time is kept');
    t.same((await store.statusEvents('web', { clusterId: 'c2', limit: 100 })).map((e) => e.seq), [1]);
    t.same((await store.statusEvents('web', { limit: 2 })).map((e) => `${e.clusterId}:${e.seq}`), ['c2:1', 'c1:3'], 'a limit keeps the newest');

    const many = Array.from({ length: STATUS_EVENTS_PER_AGENT + 10 }, (_, i) => status(10 + i));
    await store.recordStatuses('a1', 'c1', many, () => null, 300);
    const kept = await store.statusEvents('web', { clusterId: 'c1', limit: 5000 });
    t.equal(kept.length, STATUS_EVENTS_PER_AGENT, 'trimmed per agent');
    t.equal(kept.at(-1)?.seq, 10 + STATUS_EVENTS_PER_AGENT + 9, 'the newest is kept');
    await store.recordStatuses('a3', 'c1', [status(1)], () => null, 400, [{ seq: 2, reason: 'bad shape', raw: '{}' }]);
    t.same((await store.quarantinedStatuses('a3')).map((q) => [q.seq, q.reason]), [[2, 'bad shape']], 'a quarantined row is kept aside');
    t.equal(await store.lastSeq('a3'), 2, 'and its seq consumed');
    await store.deleteBundle('web');
    t.same(await store.statusEvents('web', { limit: 100 }), [], 'a deleted bundle takes its events');
  });

  t.test(`${backend.name}: garbage collection drops sets nothing refers to and their unshared blobs, nothing else`, async (t) => {
    const store = await backend.open();
    // Two 1.5 MiB objects: each revision is two blobs' worth; `shared` is identical in both.
    const shared = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace: 'd' }, data: { v: 's'.repeat(1536 * 1024) } };
    const set = (v: string) => normaliseManifests([shared, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'own', namespace: 'd' }, data: { v: v.repeat(1536 * 1024) } }], { bundle: 'web' });
    const [v1, v2, v3] = [set('1'), set('2'), set('3')];
    await store.putBundle('web', 'push', v1.revision, {}, [{ clusterId: 'c1', set: v1 }, { clusterId: 'c2', set: v1 }], 0);
    await store.assign('web', 'c1', v1.revision, 0);
    await store.assign('web', 'c2', v1.revision, 0);
    await store.acked('web', 'c2', v1.revision, 0);
    await store.putBundle('web', 'push', v2.revision, {}, [{ clusterId: 'c1', set: v2 }, { clusterId: 'c2', set: v2 }], 0);
    await store.assign('web', 'c1', v2.revision, 0);
    await store.acked('web', 'c1', v2.revision, 0);
    await store.putBundle('web', 'push', v3.revision, {}, [{ clusterId: 'c1', set: v3 }, { clusterId: 'c2', set: v3 }], 0);
    await store.putPush('web', {}, Buffer.from('an archive'), ['web'], 'fp', 0);
    const blobsBefore = await backend.count(store, 'fleet_blobs');

    t.same(await store.collectGarbage(), { sets: 0, blobs: 0, bytes: 0 }, 'v1 is still what c2 holds, v2 what c1 holds, v3 the target');
    // c2 moves on to v3: nothing refers to v1 any more.
    await store.assign('web', 'c2', v3.revision, 0);
    await store.acked('web', 'c2', v3.revision, 0);
    const r = await store.collectGarbage();
    t.equal(r.sets, 1, 'v1 dropped');
    t.ok(r.blobs >= 1 && r.bytes > 1024 * 1024, `its own blobs dropped (${r.blobs}, ${r.bytes} bytes)`);
    t.equal(await backend.count(store, 'fleet_blobs'), blobsBefore - r.blobs);
    await t.rejects(store.manifestSet(v1.revision), /no manifest set/);
    t.equal((await store.manifestSet(v2.revision)).revision, v2.revision, 'v2 (c1 still holds it) is intact, incl. the blobs it shares with v1');
    t.equal((await store.manifestSet(v3.revision)).revision, v3.revision);
    t.equal((await store.pushArchive('web')).toString(), 'an archive', 'pushed archives keep their blobs');
    t.same(await store.collectGarbage(), { sets: 0, blobs: 0, bytes: 0 }, 'a second run finds nothing');
  });

  t.test(`${backend.name}: bundle history records each new revision and each new render error, oldest first, bounded`, async (t) => {
    const store = await backend.open();
    const set = (v: string) => normaliseManifests([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'x' }, data: { v } }], { bundle: 'web' });
    const v1 = set('1');
    const v2 = set('2');
    await store.putBundle('web', 'push', v1.revision, {}, [{ clusterId: 'c1', set: v1 }, { clusterId: 'c2', set: v1 }], 1);
    await store.putBundle('web', 'push', v1.revision, {}, [{ clusterId: 'c1', set: v1 }], 2);
    await store.putBundleError('web', 'push', { code: 'HELM_RENDER_FAILED', message: 'boom' }, 3);
    await store.putBundleError('web', 'push', { code: 'HELM_RENDER_FAILED', message: 'boom' }, 4);
    await store.putBundle('web', 'git:apps', v2.revision, { warnings: ['w'] }, [{ clusterId: 'c1', set: v2 }], 5);
    t.same(await store.history('web'), [
      { revision: v1.revision, source: 'push', clusters: 2, error: null, warnings: 0, at: 1 },
      { revision: null, source: 'push', clusters: 0, error: { code: 'HELM_RENDER_FAILED', message: 'boom' }, warnings: 0, at: 3 },
      { revision: v2.revision, source: 'git:apps', clusters: 1, error: null, warnings: 1, at: 5 },
    ], 'the same revision or the same error again adds nothing');
    for (let i = 0; i < HISTORY_PER_BUNDLE + 5; i++) await store.putBundleError('web', 'push', { code: 'X', message: `e${i}` }, 10 + i);
    t.equal((await store.history('web')).length, HISTORY_PER_BUNDLE);
    t.equal((await store.history('web')).at(-1)?.error?.message, `e${HISTORY_PER_BUNDLE + 4}`);
    await store.deleteBundle('web');
    t.same(await store.history('web'), []);
  });

  t.test(`${backend.name}: plans, pushes, groups, gitrepos and a forgotten cluster`, async (t) => {
    const store = await backend.open();
    const g0 = store.generation;
    await store.applyPlan([{ bundle: 'web', clusterId: 'c1', revision: 'r1' }, { bundle: 'web', clusterId: 'c2', revision: 'r1' }, { bundle: 'db', clusterId: 'c1', revision: 'd1' }], [], 5);
    t.ok(store.generation > g0, 'a plan moves the generation');
    await store.applyPlan([], [{ bundle: 'web', clusterId: 'c2' }], 6);
    t.same((await store.deployments({ clusterId: 'c2' })).map((d) => [d.bundle, d.desiredRevision]), [['web', null]], 'unassigned, the row kept until the agent removed it');
    t.same((await store.deployments({ bundle: 'web' })).map((d) => d.clusterId), ['c1', 'c2']);
    await store.reportRefusal('db', 'c1', 'd1', 'MANIFEST_INVALID: no', 7);
    t.match((await store.deployments({ bundle: 'db' }))[0], { state: 'ErrApplied', ackedRevision: 'd1', message: 'MANIFEST_INVALID: no' });
    await store.forgetDeployment('web', 'c2');
    t.same((await store.deployments({ clusterId: 'c2' })), []);

    await store.putPush('apps', { namespace: 'x', strict: true }, Buffer.from('tgz'), ['web', 'db'], 'fp1', 1);
    t.match(await store.push('apps'), { name: 'apps', opts: { namespace: 'x', strict: true }, bundles: ['db', 'web'], fingerprint: 'fp1' });
    await store.pushRendered('apps', 'fp2', 2);
    t.equal((await store.pushes())[0]?.fingerprint, 'fp2');
    await store.releasePushed('web');
    t.same((await store.push('apps'))?.bundles, ['db']);
    await store.releasePushed('db');
    t.same(await store.pushes(), [], 'a push that owns nothing goes');

    await store.putGroup('edge', { matchLabels: { env: 'edge' } }, 1);
    await store.putGroup('edge', { matchLabels: { env: 'far' } }, 2);
    t.same(await store.groups(), [{ name: 'edge', selector: { matchLabels: { env: 'far' } } }]);
    t.equal(await store.deleteGroup('edge'), true);
    t.equal(await store.deleteGroup('edge'), false);

    await store.putGitRepo('apps', { repo: 'https://example.invalid/apps.git', pollIntervalSeconds: 15 }, 1);
    await store.gitRepoPolled('apps', 'abc', null, 10);
    await store.gitRepoPolled('apps', null, 'GIT_FETCH_FAILED: down', 20);
    t.same(await store.gitRepos(), [{ name: 'apps', spec: { repo: 'https://example.invalid/apps.git', pollIntervalSeconds: 15 }, commit: 'abc', error: 'GIT_FETCH_FAILED: down', polledAt: 20 }], 'the last good commit stays beside the error');
    t.equal(await store.deleteGitRepo('apps'), true);

    await store.recordStatuses('a1', 'c1', [{ seq: 1, status: { bundle: 'db', revision: 'd1', state: 'Ready', message: '' } }], () => null, 30);
    await store.forgetCluster('c1', ['a1']);
    t.same(await store.deployments({ clusterId: 'c1' }), []);
    t.equal(await store.lastSeq('a1'), 0, 'its agents\' sequence numbers go');
  });

  if (backend.name === 'postgres') {
    t.test('postgres: two replicas\' stores on one database see each other\'s changes through the shared counters', async (t) => {
      const a = await backend.open();
      const b = await backend.reopen(a);
      const set = normaliseManifests([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'x' }, data: { v: '1' } }], { bundle: 'web' });
      const before = b.generation;
      await a.putBundle('web', 'push', set.revision, {}, [{ clusterId: 'c1', set }], 1);
      t.equal(b.generation, before, 'not seen before a refresh');
      await b.refresh();
      t.ok(b.generation > before, 'a bundle stored through A moves B\'s generation');
      t.equal((await b.manifestSet(set.revision)).revision, set.revision, 'and B reads its manifest set');
      await b.assign('web', 'c1', set.revision, 2);
      const statuses = a.statusVersion;
      const rows = [1, 2, 3].map((seq) => ({ seq, status: { bundle: 'web', revision: set.revision, appliedRevision: set.revision, state: 'Ready', message: `m${seq}` } }));
      // The agent moved from A to B mid-drain: both store the same batch at once.
      const [x, y] = await Promise.all([a.recordStatuses('a1', 'c1', rows, () => null, 3), b.recordStatuses('a1', 'c1', rows, () => null, 3)]);
      t.equal(x + y, 3, 'each status stored once');
      t.equal((await a.statusEvents('web', { limit: 10 })).length, 3);
      await a.refresh();
      t.ok(a.statusVersion > statuses, 'statuses stored on B move A\'s status version (the rollout holder plans again)');
    });
  }
}
