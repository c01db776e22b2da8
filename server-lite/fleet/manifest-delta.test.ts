// Manifest deltas: only added and changed objects travel, removed ones are named (the agent's side
// of the round trip is test/integration/fleet-delta.test.ts).
import t from 'tap';
import { diffManifestSets } from './manifest-delta.ts';
import { normaliseManifests } from './manifest-set.ts';

const set = (data: Record<string, string>) =>
  normaliseManifests(Object.entries(data).map(([name, v]) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v } })), { bundle: 'b' });

t.test('delta: only added and changed objects travel; removed ones are named', async (t) => {
  const a = set({ keep: '1', change: '1', drop: '1' });
  const b = set({ keep: '1', change: '2', add: '1' });
  const d = diffManifestSets(a, b);
  t.same(d.upserts.map((e) => e.id), ['/ConfigMap/default/add', '/ConfigMap/default/change']);
  t.same(d.upserts, b.objects.filter((e) => e.id !== '/ConfigMap/default/keep'), 'whole entries, as rendered');
  t.same(d.removals, ['/ConfigMap/default/drop']);
  t.equal(d.from, a.revision);
  t.equal(d.to, b.revision);
  t.same(diffManifestSets(a, a).upserts, [], 'no change, empty delta');
});
