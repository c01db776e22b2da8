// Server and agent name a manifest set the same way (protocol/manifest-digest.ts): a delta the
// server computes between two rendered sets, sent as JSON, is rebuilt by the agent into exactly
// the set the server rendered, for random edits; a delta for another base or a tampered one is
// refused with DELTA_MISMATCH (the server then sends the whole set).
import t from 'tap';
import fc from 'fast-check';
import { normaliseManifests, type JsonObject } from '../../server-lite/fleet/manifest-set.ts';
import { diffManifestSets } from '../../server-lite/fleet/manifest-delta.ts';
import { applyDelta, isDesiredDelta } from '../../agents/fleet/manifest-delta.ts';
import type { DesiredDeployment, KubeObject } from '../../agents/fleet/types.ts';

const cm = (name: string, v: string, ns?: string): JsonObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(ns ? { namespace: ns } : {}) }, data: { v, nested: { b: [1, 2], a: null } } });
const nsObj = (name: string): JsonObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const render = (objs: JsonObject[]) => normaliseManifests(objs, { bundle: 'web', defaultNamespace: 'apps' });
const held = (set: ReturnType<typeof render>): DesiredDeployment => ({ id: 'web', bundle: 'web', revision: set.revision, options: {}, manifests: JSON.parse(JSON.stringify(set.objects.map((o) => o.object))) as KubeObject[] });
const wire = (from: ReturnType<typeof render>, to: ReturnType<typeof render>): unknown => {
  const d = diffManifestSets(from, to);
  return JSON.parse(JSON.stringify({ id: 'web', bundle: 'web', revision: to.revision, options: {}, delta: { from: from.revision, upserts: d.upserts.map((e) => ({ id: e.id, object: e.object })), removals: d.removals } }));
};

t.test('delta: the agent rebuilds exactly what the server rendered', async (t) => {
  const names = fc.constantFrom('a', 'b', 'c', 'd', 'e');
  const setArb = fc.uniqueArray(fc.tuple(names, fc.string({ maxLength: 6 }), fc.boolean()), { selector: ([n]) => n, maxLength: 5 })
    .map((xs) => [nsObj('apps'), ...xs.map(([n, v, cluster]) => (cluster ? cm(n, v, 'other') : cm(n, v)))]);
  fc.assert(fc.property(setArb, setArb, (a, b) => {
    const from = render(a);
    const to = render(b);
    const body = wire(from, to);
    if (!isDesiredDelta(body)) return false;
    const rebuilt = applyDelta(held(from), body);
    return rebuilt.revision === to.revision && JSON.stringify(rebuilt.manifests) === JSON.stringify(to.objects.map((o) => o.object));
  }), { numRuns: 200 });
});

t.test('delta: another base, a tampered object, an unknown removal are refused with DELTA_MISMATCH', async (t) => {
  const v1 = render([cm('a', '1'), cm('b', '1')]);
  const v2 = render([cm('a', '2'), cm('b', '1')]);
  const v3 = render([cm('a', '3'), cm('b', '1')]);
  const body = wire(v1, v2);
  if (!isDesiredDelta(body)) throw new Error('not a delta');
  t.throws(() => applyDelta(held(v3), body), { code: 'DELTA_MISMATCH', message: /applies to revision/ }, 'the agent holds another revision');
  t.throws(() => applyDelta(undefined, body), { code: 'DELTA_MISMATCH', message: /holds nothing/ });
  const tampered = structuredClone(body);
  (tampered.delta.upserts[0]!.object as unknown as { data: { v: string } }).data.v = 'evil';
  t.throws(() => applyDelta(held(v1), tampered), { code: 'DELTA_MISMATCH', message: /rebuilds revision/ }, 'the result does not hash to the named revision');
  const badRemoval = { ...body, delta: { ...body.delta, removals: ['/ConfigMap/apps/zzz'] } };
  t.throws(() => applyDelta(held(v1), badRemoval), { code: 'DELTA_MISMATCH', message: /does not have/ });
  const wrongId = structuredClone(body);
  wrongId.delta.upserts[0]!.id = '/ConfigMap/apps/b';
  t.throws(() => applyDelta(held(v1), wrongId), { code: 'DELTA_MISMATCH', message: /id does not match/ });
  t.equal(applyDelta(held(v1), body).revision, v2.revision, 'the genuine delta applies');
});
