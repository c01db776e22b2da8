// Manifest deltas: diff then apply reproduces the target set exactly, and wrong bases are refused.
import t from 'tap';
import fc from 'fast-check';
import { applyManifestDelta, diffManifestSets } from './manifest-delta.ts';
import { normaliseManifests } from './manifest-set.ts';

const set = (data: Record<string, string>) =>
  normaliseManifests(Object.entries(data).map(([name, v]) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v } })), { bundle: 'b' });

t.test('delta: only added and changed objects travel; removed ones are named', async (t) => {
  const a = set({ keep: '1', change: '1', drop: '1' });
  const b = set({ keep: '1', change: '2', add: '1' });
  const d = diffManifestSets(a, b);
  t.same(d.upserts.map((e) => e.id), ['/ConfigMap/default/add', '/ConfigMap/default/change']);
  t.same(d.removals, ['/ConfigMap/default/drop']);
  t.same(applyManifestDelta(a, d), b);
  t.same(diffManifestSets(a, a).upserts, [], 'no change, empty delta');
});

t.test('delta: a wrong base or a tampered object is DELTA_MISMATCH', async (t) => {
  const a = set({ x: '1' });
  const b = set({ x: '2' });
  const c = set({ x: '3' });
  const d = diffManifestSets(a, b);
  t.throws(() => applyManifestDelta(c, d), { code: 'DELTA_MISMATCH' });
  const tampered = structuredClone(d);
  (tampered.upserts[0]?.object.data as { v: string }).v = 'evil';
  t.throws(() => applyManifestDelta(a, tampered), { code: 'DELTA_MISMATCH' });
  t.throws(() => applyManifestDelta(a, { ...d, removals: [] , upserts: [] }), { code: 'DELTA_MISMATCH' }, 'result must hash to `to`');
});

t.test('delta: property: apply(a, diff(a, b)) is b for any two sets', async () => {
  const dataArb = fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.constantFrom('1', '2', '3'), { maxKeys: 15 });
  fc.assert(
    fc.property(dataArb, dataArb, (x, y) => {
      const a = set(x);
      const b = set(y);
      const r = applyManifestDelta(a, diffManifestSets(a, b));
      return r.revision === b.revision && JSON.stringify(r) === JSON.stringify(b);
    }),
  );
});
