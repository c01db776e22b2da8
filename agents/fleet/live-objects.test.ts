import t from 'tap';
import { readLive } from './live-objects.ts';
import { FakeKube } from '../../test/fakes/fake-kube.ts';
import { configMap, deploymentObj } from './test-fixtures.ts';
import { refOf } from './object-ref.ts';

t.test('live objects: many of one kind in one namespace are one LIST, a few are GETs, missing ones read as absent', async (t) => {
  const kube = new FakeKube();
  const cms = Array.from({ length: 6 }, (_, i) => configMap(`c${i}`, 'x'));
  for (const o of [...cms.slice(0, 5), deploymentObj('web', 'x')]) await kube.apply(o);
  kube.calls.length = 0;
  const refs = [...cms, deploymentObj('web', 'x'), deploymentObj('gone', 'x')].map(refOf);
  const live = await readLive(kube, refs);
  t.same(kube.calls, ['list ConfigMap/x'], 'six ConfigMaps: one LIST; the two Deployments: GETs (not logged)');
  t.equal(live.get('/ConfigMap/x/c0')?.metadata.name, 'c0');
  t.equal(live.get('/ConfigMap/x/c5'), undefined, 'c5 was never applied');
  t.equal(live.get('apps/Deployment/x/web')?.kind, 'Deployment');
  t.equal(live.get('apps/Deployment/x/gone'), undefined);
  t.equal(live.size, 8);
});

t.test('live objects: a kind the cluster no longer serves reads as absent, for GETs and LISTs', async (t) => {
  const kube = new FakeKube();
  const refs = Array.from({ length: 5 }, (_, i) => ({ group: 'example.com', version: 'v1', kind: 'Gizmo', namespace: 'x', name: `g${i}` }));
  const live = await readLive(kube, [...refs, { ...refs[0]!, kind: 'Gadget' }]);
  t.equal([...live.values()].filter((v) => v !== undefined).length, 0);
  t.equal(live.size, 6);
});

t.test('live objects: an unreachable apiserver is an error, not an empty cluster', async (t) => {
  const kube = new FakeKube();
  kube.unreachable = true;
  await t.rejects(readLive(kube, [refOf(configMap('a', 'x'))]), { code: 'KUBE_UNREACHABLE' });
  await t.rejects(readLive(kube, Array.from({ length: 5 }, (_, i) => refOf(configMap(`c${i}`, 'x')))), { code: 'KUBE_UNREACHABLE' });
});

t.test('live objects: a LIST over the response limit falls back to one GET per object', async (t) => {
  const kube = new FakeKube();
  const cms = Array.from({ length: 5 }, (_, i) => configMap(`c${i}`, 'x'));
  for (const o of cms.slice(0, 4)) await kube.apply(o);
  kube.listTooLarge = true;
  const live = await readLive(kube, cms.map(refOf));
  t.same([...live.values()].map((o) => o?.metadata.name), ['c0', 'c1', 'c2', 'c3', undefined]);
});
