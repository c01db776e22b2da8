import t from 'tap';
import { diffObject } from './drift.ts';
import { applyOperation, joinPointer, parsePointer } from './json-pointer.ts';
import { deploymentObj } from './test-fixtures.ts';

const live = (): Record<string, unknown> => {
  const d = deploymentObj('web', 'x', 2) as unknown as Record<string, unknown>;
  const spec = d.spec as Record<string, unknown>;
  spec.strategy = { type: 'RollingUpdate' }; // a default the apiserver filled in
  d.metadata = { name: 'web', namespace: 'x', uid: 'u', resourceVersion: '7', managedFields: [] };
  d.status = { replicas: 2 };
  return d;
};

t.test('drift: a live object with defaults and status but our fields intact is in sync', async (t) => {
  t.same(diffObject(deploymentObj('web', 'x', 2), live()), []);
});

t.test('drift: changed fields are reported as JSON pointers into the desired object', async (t) => {
  const l = live();
  (l.spec as { replicas: number }).replicas = 5;
  ((l.spec as any).template.spec.containers[0]).image = 'evil:latest';
  t.same(diffObject(deploymentObj('web', 'x', 2), l), ['/spec/replicas', '/spec/template/spec/containers/0/image']);
});

t.test('drift: list items are matched by their merge key, not their position', async (t) => {
  const want = deploymentObj('web', 'x', 2);
  (want.spec as any).template.spec.containers.push({ name: 'side', image: 's:1' });
  const l = live();
  (l.spec as any).template.spec.containers = [{ name: 'side', image: 's:1' }, { name: 'main', image: 'registry.example/web:1.0' }];
  t.same(diffObject(want, l), [], 'reordered containers are the same containers');
  (l.spec as any).template.spec.containers = [{ name: 'main', image: 'registry.example/web:1.0' }];
  t.same(diffObject(want, l), ['/spec/template/spec/containers/1'], 'a removed container is drift');
});

t.test('drift: empty values in the manifest equal absent live; "80" equals 80', async (t) => {
  const want = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', annotations: {} }, spec: { ports: [{ port: 80, targetPort: '80' }], selector: {} } };
  const l = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] } };
  t.same(diffObject(want, l), []);
});

t.test('drift: comparePatches ignore listed pointers and apply remove operations, only for matching objects', async (t) => {
  const l = live();
  (l.spec as { replicas: number }).replicas = 5;
  (l.metadata as any).labels = { changed: 'yes' };
  const want = deploymentObj('web', 'x', 2);
  want.metadata.labels = { changed: 'no' };
  t.same(diffObject(want, l, [{ kind: 'Deployment', name: 'web', jsonPointers: ['/spec/replicas'], operations: [{ op: 'remove', path: '/metadata/labels/changed' }] }]), []);
  t.same(diffObject(want, l, [{ kind: 'Deployment', name: 'other', jsonPointers: ['/spec/replicas'] }]), ['/metadata/labels/changed', '/spec/replicas']);
});

t.test('json-pointer: escaping round-trips; operations on missing paths are no-ops', async (t) => {
  t.same(parsePointer(joinPointer(['a/b', 'c~d', 0])), ['a/b', 'c~d', '0']);
  const doc = { a: [1, 2, 3], b: { c: 1 } };
  applyOperation(doc, { op: 'remove', path: '/a/1' });
  applyOperation(doc, { op: 'replace', path: '/b/c', value: 9 });
  applyOperation(doc, { op: 'remove', path: '/nope/deeper' });
  applyOperation(doc, { op: 'replace', path: '/b/missing', value: 1 });
  t.same(doc, { a: [1, 3], b: { c: 9 } });
});

t.test('drift: a Secret written with stringData equals the base64 data the apiserver keeps', async (t) => {
  const want = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { password: 'hunter2' }, data: { other: 'eA==' } };
  const live = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: Buffer.from('hunter2').toString('base64'), other: 'eA==' }, type: 'Opaque' };
  t.same(diffObject(want, live), []);
  live.data.password = Buffer.from('changed').toString('base64');
  t.same(diffObject(want, live), ['/data/password']);
});

t.test('drift: Go zero values in the manifest ("" false 0) equal an absent live field', async (t) => {
  const want = deploymentObj('web', 'x');
  (want.spec as any).template.spec.hostNetwork = false;
  (want.spec as any).template.spec.containers[0].env = [{ name: 'EMPTY', value: '' }];
  const live = deploymentObj('web', 'x');
  (live.spec as any).template.spec.containers[0].env = [{ name: 'EMPTY' }];
  t.same(diffObject(want, live), []);
  (live.spec as any).template.spec.hostNetwork = true;
  t.same(diffObject(want, live), ['/spec/template/spec/hostNetwork'], 'but a different value is drift');
});
