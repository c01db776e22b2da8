// Manifest sets: parsing, namespaces, sorting and content addressing (the revision id).
import t from 'tap';
import fc from 'fast-check';
import { canonicalJson, normaliseManifests, parseManifests, verifyManifestSet, type JsonObject } from './manifest-set.ts';
import { FleetError } from './errors.ts';

const yaml = `
apiVersion: v1
kind: ConfigMap
metadata: { name: b }
data: { enabled: yes }
---
# empty documents are skipped
---
apiVersion: v1
kind: Namespace
metadata: { name: web, namespace: ignored }
---
apiVersion: v1
kind: List
items:
  - { apiVersion: apps/v1, kind: Deployment, metadata: { name: a, namespace: other } }
`;

t.test('manifest set: multi-document YAML 1.1 parses like kubectl reads it; Lists are flattened', async (t) => {
  const objs = parseManifests(yaml, 'x.yaml');
  t.equal(objs.length, 3);
  t.same((objs[0] as JsonObject).data, { enabled: true }, 'YAML 1.1 booleans, as Kubernetes would read them');
});

t.test('manifest set: default namespace only on namespaced objects without one; cluster-scoped lose theirs', async (t) => {
  const set = normaliseManifests(parseManifests(yaml, 'x.yaml'), { bundle: 'web', defaultNamespace: 'web' });
  t.same(set.objects.map((o) => o.id), ['/ConfigMap/web/b', '/Namespace//web', 'apps/Deployment/other/a']);
  t.ok(verifyManifestSet(set));
  const dflt = normaliseManifests(parseManifests(yaml, 'x.yaml'), { bundle: 'web' });
  t.equal(dflt.objects[0]?.id, '/ConfigMap/default/b', 'Fleet defaults to the default namespace');
});

t.test('manifest set: `namespace` forces namespaced objects and refuses cluster-scoped ones', async (t) => {
  const objs = parseManifests(yaml, 'x.yaml').filter((o) => o.kind !== 'Namespace');
  const set = normaliseManifests(objs, { bundle: 'web', namespace: 'forced' });
  t.same(set.objects.map((o) => o.id), ['/ConfigMap/forced/b', 'apps/Deployment/forced/a']);
  t.throws(() => normaliseManifests(parseManifests(yaml, 'x.yaml'), { bundle: 'web', namespace: 'forced' }), { code: 'NAMESPACE_CLUSTER_SCOPED' });
});

t.test('manifest set: a CRD in the bundle makes its cluster-scoped kind cluster-scoped', async (t) => {
  const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'zones.x.io' }, spec: { group: 'x.io', scope: 'Cluster', names: { kind: 'Zone' } } };
  const set = normaliseManifests([crd, { apiVersion: 'x.io/v1', kind: 'Zone', metadata: { name: 'z' } }], { bundle: 'b' });
  t.same(set.objects.map((o) => o.id), ['apiextensions.k8s.io/CustomResourceDefinition//zones.x.io', 'x.io/Zone//z']);
});

t.test('manifest set: invalid objects, duplicates and bad YAML are refused naming the bundle or file', async (t) => {
  t.throws(() => normaliseManifests([{ kind: 'ConfigMap', metadata: { name: 'a' } }], { bundle: 'web' }), { code: 'MANIFEST_INVALID', message: /bundle web/ });
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } };
  t.throws(() => normaliseManifests([cm, { ...cm, apiVersion: 'v1', data: {} }], { bundle: 'web' }), { code: 'MANIFEST_DUPLICATE' });
  t.throws(() => parseManifests('a: [\n', 'web/x.yaml'), { code: 'MANIFEST_INVALID', message: /web\/x\.yaml/ });
  t.throws(() => parseManifests('- 1\n', 'web/x.yaml'), FleetError);
});

t.test('manifest set: property: the revision depends on content only, not on object order or key order', async () => {
  const objArb = fc.uniqueArray(
    fc.record({ name: fc.stringMatching(/^[a-z]{1,6}$/), data: fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), fc.string()) }),
    { selector: (o) => o.name, minLength: 1, maxLength: 12 },
  );
  fc.assert(
    fc.property(objArb, fc.nat(), (objs, seed) => {
      const objects = objs.map((o) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: o.name }, data: o.data }));
      // Same content: reversed order, reversed key order, rotated by `seed`.
      const rot = seed % objects.length;
      const shuffled = [...objects.slice(rot), ...objects.slice(0, rot)].reverse().map((o) => JSON.parse(JSON.stringify(o, Object.keys(o).reverse().concat('name'))) as JsonObject);
      const a = normaliseManifests(objects, { bundle: 'b' });
      const b = normaliseManifests(shuffled.map((o) => ({ ...o, metadata: { name: (o.metadata as { name: string }).name }, data: (objects.find((x) => x.metadata.name === (o.metadata as { name: string }).name) ?? { data: {} }).data })), { bundle: 'b' });
      return a.revision === b.revision && canonicalJson(a) === canonicalJson(b);
    }),
  );
});

t.test('manifest set: changing one byte of one object changes the revision and fails verification of the old hashes', async (t) => {
  const objs = [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } }];
  const a = normaliseManifests(objs, { bundle: 'b' });
  const b = normaliseManifests([{ ...objs[0], data: { k: 'w' } }], { bundle: 'b' });
  t.not(a.revision, b.revision);
  const tampered = structuredClone(a);
  (tampered.objects[0]?.object.data as Record<string, string>).k = 'w';
  t.notOk(verifyManifestSet(tampered));
});
