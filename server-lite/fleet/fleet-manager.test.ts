// The fleet manager: `--target` values parse into target criteria; `bundle status` says what a
// held-back cluster waits for (the state rule itself is deployment-state.ts's, tested there).
import t, { type Test } from 'tap';
import { parseTarget } from './fleet-api.ts';

t.test('--target: selectors, cluster names and groups', async (t) => {
  t.same(parseTarget('env=edge', 0), { name: 'target-0', clusterSelector: { matchLabels: { env: 'edge' } } });
  t.same(parseTarget('cluster=berlin', 1), { name: 'target-1', clusterName: 'berlin' });
  t.same(parseTarget('group=edge', 2), { name: 'target-2', clusterGroup: 'edge' });
  t.throws(() => parseTarget('env in (', 3), { code: 'SELECTOR_INVALID' });
});

t.test('bundle status: a cluster the rollout holds at its previous revision is OutOfSync and says what it waits for', async (t) => {
  const { join } = await import('node:path');
  const pino = (await import('pino')).default;
  const { SqliteFleetStore: FleetStore } = await import('./sqlite-fleet-store.ts');
  const { FleetManager } = await import('./fleet-manager.ts');
  const { normaliseManifests } = await import('./manifest-set.ts');
  const store = new FleetStore(join(t.testdir(), 'm.db'));
  t.teardown(() => store.close());
  const clusters = [{ id: 'c1', name: 'site-1', labels: { env: 'edge' } }, { id: 'c2', name: 'site-2', labels: { env: 'edge' } }];
  const m = new FleetManager(store, {
    clusters: async () => clusters, online: () => new Set(['c1', 'c2']), now: () => 0, log: pino({ level: 'silent' }),
    tools: { helm: () => 'helm', kustomize: () => 'kustomize' },
  });
  const set = (v: string) => normaliseManifests([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app', namespace: 'x' }, data: { v } }], { bundle: 'app' });
  const spec = { rolloutStrategy: { partitions: [{ name: 'canary', clusterName: 'site-1' }, { name: 'rest', clusterName: 'site-2' }] } };
  let seq = 0;
  const report = async (clusterId: string, revision: string, state: string) => {
    await store.acked('app', clusterId, revision, 0);
    await store.recordStatuses(`a-${clusterId}`, clusterId, [{ seq: ++seq, status: { bundle: 'app', revision, appliedRevision: revision, state, message: `${state} here` } }], () => null, 0);
  };
  const v1 = set('1');
  await store.putBundle('app', 'push', v1.revision, spec, clusters.map((c) => ({ clusterId: c.id, set: v1 })), 0);
  await m.plan();
  await report('c1', v1.revision, 'Ready');
  await m.plan();
  await report('c2', v1.revision, 'Ready');
  await m.plan();
  t.same((await m.status('app'))?.clusters.map((c) => [c.name, c.state]), [['site-1', 'Ready'], ['site-2', 'Ready']]);

  const v2 = set('2');
  await store.putBundle('app', 'push', v2.revision, spec, clusters.map((c) => ({ clusterId: c.id, set: v2 })), 0);
  await m.plan();
  await report('c1', v2.revision, 'NotReady');
  await m.plan();
  const held = (await m.status('app'))?.clusters.find((c) => c.id === 'c2');
  t.equal(held?.state, 'OutOfSync', 'not Ready: it runs the previous revision');
  t.same(held?.rollout, { partition: 'rest', reason: 'partition-gate', blockedBy: ['canary'] });
  t.match(held?.message, /^at revision [0-9a-f]{12}, not yet [0-9a-f]{12}: rollout waits for partition "canary" to be Ready$/);
  t.equal((await m.status('app'))?.clusters.find((c) => c.id === 'c1')?.state, 'NotReady', 'the canary shows its own state');
  // Another replica on the same rows, not scheduling (HA): it explains the hold the same way and
  // knows the names, though it never planned.
  const other = new FleetManager(store, {
    clusters: async () => clusters, online: () => new Set(['c1', 'c2']), now: () => 0, log: pino({ level: 'silent' }),
    tools: { helm: () => 'helm', kustomize: () => 'kustomize' },
  });
  other.scheduling = false;
  t.same(await other.status('app'), await m.status('app'), 'the non-scheduling replica says what the scheduling one does');
  const generation = store.generation;
  await other.plan();
  t.equal(store.generation, generation, 'and assigns nothing');

  await report('c1', v2.revision, 'Ready');
  await m.plan();
  const after = (await m.status('app'))?.clusters.find((c) => c.id === 'c2');
  t.equal(after?.revision, v2.revision, 'the canary is Ready: the rest gets v2');
  t.equal(after?.rollout, undefined);
  t.same(await other.status('app'), await m.status('app'));
});

/** A manager on a real store, one online cluster `c1` whose labels the test may change, and a pushed one-ConfigMap source. */
async function pushFixture(t: Test, labels: Record<string, string>) {
  const { join } = await import('node:path');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const pino = (await import('pino')).default;
  const { SqliteFleetStore: FleetStore } = await import('./sqlite-fleet-store.ts');
  const { FleetManager } = await import('./fleet-manager.ts');
  const { packSource } = await import('./source-archive.ts');
  const dir = t.testdir();
  const store = new FleetStore(join(dir, 'm.db'));
  t.teardown(() => store.close());
  const clusters = [{ id: 'c1', name: 'site-1', labels }];
  const m = new FleetManager(store, {
    clusters: async () => clusters, online: () => new Set(['c1']), now: () => 0, log: pino({ level: 'silent' }),
    tools: { helm: () => 'helm', kustomize: () => 'kustomize' },
  });
  const src = join(dir, 'app');
  mkdirSync(src);
  writeFileSync(join(src, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: x}\n');
  const sel = (env: string) => [{ name: 'target-0', clusterSelector: { matchLabels: { env } } }];
  return { store, clusters, m, archive: await packSource(src), sel };
}

t.test('relabel: a pushed bundle whose only target no longer matches is taken off the cluster (issue 23, finding 5)', async (t) => {
  const { store, clusters, m, archive, sel } = await pushFixture(t, { env: 'dev' });
  const [applied] = await m.applyArchive(archive, { name: 'app', targets: sel('dev') });
  t.same(applied?.clusters, ['c1']);
  t.ok((await store.deployments({ bundle: 'app' })).find((d) => d.clusterId === 'c1')?.desiredRevision, 'assigned');

  clusters[0] = { id: 'c1', name: 'site-1', labels: { env: 'prod' } };
  t.same(await m.retargetPushes(await m.fingerprint()), ['app'], 'rendered again for the new labels');
  t.equal((await store.deployments({ bundle: 'app' })).find((d) => d.clusterId === 'c1')?.desiredRevision ?? null, null, 'unassigned: the agent removes it');
  const status = (await m.status('app'));
  t.same(status?.clusters, [], 'no cluster targeted');
  t.notOk(status?.error, 'not an error (as in Fleet)');
  t.match(status?.warnings, [/target "selector env=dev" matches no cluster/]);
  t.equal((await m.list())[0]?.state, 'Pending', 'and not shown Ready');
});

t.test('bundle apply --target that matches nothing is refused while the bundle runs somewhere (a typo must not remove it)', async (t) => {
  const { store, m, archive, sel } = await pushFixture(t, { env: 'prod' });
  t.same((await m.applyArchive(archive, { name: 'app', targets: sel('prod') }))[0]?.clusters, ['c1']);
  const typo = (await m.applyArchive(archive, { name: 'app', targets: sel('prdo') }))[0];
  t.equal(typo?.ok, false);
  t.match(typo?.error, { code: 'TARGET_NO_MATCH', message: /no --target matches a cluster \(bundle app: target "selector env=prdo" matches no cluster.*it stays on its 1 cluster/ });
  t.ok((await store.deployments({ bundle: 'app' }))[0]?.desiredRevision, 'still assigned');
  const fresh = (await m.applyArchive(archive, { name: 'other', targets: sel('nowhere') }))[0];
  t.equal(fresh?.ok, true, 'a new bundle may target nothing yet (as in Fleet)');
});
