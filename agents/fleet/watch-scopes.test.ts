// Which collections are watched and which events are drift.
import t from 'tap';
import { eventKey, isDrift, watchScopes, type WatchedObject } from './watch-scopes.ts';
import { configMap } from './test-fixtures.ts';
import { refOf } from './object-ref.ts';
import { withOwner } from './ownership.ts';

t.test('one watch per kind and namespace; a kind in many namespaces is watched across all', async (t) => {
  const refs = [
    ...Array.from({ length: 500 }, (_, i) => ({ group: '', version: 'v1', kind: 'ConfigMap', namespace: 'a', name: `c${i}` })),
    { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'a' },
    { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'b' },
    { group: '', version: 'v1', kind: 'Namespace', namespace: '' },
    ...Array.from({ length: 20 }, (_, i) => ({ group: '', version: 'v1', kind: 'Secret', namespace: `ns${i}` })),
  ];
  t.same(watchScopes(refs, 8), [
    { group: '', version: 'v1', kind: 'ConfigMap', namespace: 'a' },
    { group: '', version: 'v1', kind: 'Namespace', namespace: '' },
    { group: '', version: 'v1', kind: 'Secret', namespace: null },
    { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'a' },
    { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'b' },
  ]);
  t.same(watchScopes([]), []);
});

t.test('drift: deleted, label removed, a declared field changed; not: our own in-sync apply, others\' fields, deletion in progress', async (t) => {
  const manifest = configMap('settings', 'shop', { mode: 'edge' });
  const w: WatchedObject = { deploymentId: 'shop', bundle: 'b', revision: 'r1', object: { ref: refOf(manifest), manifest }, comparePatches: [] };
  const live = { ...withOwner(manifest, 'b'), metadata: { ...withOwner(manifest, 'b').metadata, resourceVersion: '7', uid: 'u' } };
  t.equal(eventKey({ group: '', version: 'v1', kind: 'ConfigMap', namespace: null }, live), '/ConfigMap/shop/settings');
  t.ok(isDrift(w, { type: 'DELETED', object: live }));
  t.notOk(isDrift(w, { type: 'MODIFIED', object: live }), 'in sync (our own apply)');
  t.notOk(isDrift(w, { type: 'ADDED', object: live }));
  t.ok(isDrift(w, { type: 'MODIFIED', object: { ...live, data: { mode: 'cloud' } } }));
  t.notOk(isDrift(w, { type: 'MODIFIED', object: { ...live, data: { mode: 'edge', extra: '1' } } }), 'a key we do not declare');
  t.notOk(isDrift(w, { type: 'MODIFIED', object: { ...live, metadata: { ...live.metadata, annotations: { note: 'x' } } } }), 'an annotation added by someone else');
  t.ok(isDrift(w, { type: 'MODIFIED', object: { ...live, metadata: { ...live.metadata, labels: {} } } }), 'bundle label removed');
  t.notOk(isDrift(w, { type: 'MODIFIED', object: { ...live, data: {}, metadata: { ...live.metadata, deletionTimestamp: '2026-12-05T00:00:00Z' } } }), 'being deleted: its DELETED event follows');
  t.notOk(isDrift(w, { type: 'BOOKMARK', object: live }));
});
