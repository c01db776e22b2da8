import t from 'tap';
import { computeStatus, type StateInput } from './deployment-state.ts';
import { desired } from './test-fixtures.ts';

const ref = { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'x', name: 'web' };
const applied = (revision?: string, error?: string) => ({ revision, appliedAt: undefined, error, errorRevision: error ? 'r2' : undefined });
const input = (over: Partial<StateInput>): StateInput => ({ desired: desired('d', 'r2', []), applied: applied('r2'), journalOpen: false, waitingFor: [], observed: [], ...over });

t.test('state: precedence ErrApplied > WaitApplied > Modified > NotReady > Ready', async (t) => {
  t.equal(computeStatus(input({ applied: applied('r1', 'APPLY_FAILED: no') })).state, 'ErrApplied');
  t.equal(computeStatus(input({ applied: applied('r1') })).state, 'WaitApplied', 'desired revision not applied yet');
  t.equal(computeStatus(input({ journalOpen: true })).state, 'WaitApplied', 'apply in progress');
  const nr = { ready: false as const, failed: false, reason: 'available 0/1' };
  t.equal(computeStatus(input({ observed: [{ ref, readiness: nr, drift: ['/spec/replicas'] }] })).state, 'Modified');
  t.equal(computeStatus(input({ observed: [{ ref, readiness: nr, drift: [] }] })).state, 'NotReady');
  t.equal(computeStatus(input({ observed: [{ ref, readiness: { ready: true }, drift: [] }] })).state, 'Ready');
});

t.test('state: a missing object is Modified with missing=true and named in the message', async (t) => {
  const s = computeStatus(input({ observed: [{ ref, readiness: undefined, drift: [] }] }));
  t.equal(s.state, 'Modified');
  t.same(s.modified, [{ ref, missing: true, fields: [] }]);
  t.match(s.message, /Deployment x\/web missing/);
});

t.test('state: waiting on dependsOn is WaitApplied before the first apply, OutOfSync with an older revision live', async (t) => {
  t.match(computeStatus(input({ applied: applied(undefined), waitingFor: ['db'] })), { state: 'WaitApplied', message: /dependsOn: db/ });
  t.equal(computeStatus(input({ applied: applied('r1'), waitingFor: ['db'] })).state, 'OutOfSync');
});

t.test('state: the object lists of a status are capped, the message keeps the total', async (t) => {
  const many = Array.from({ length: 120 }, (_, i) => ({ ref: { ...ref, name: `w${i}` }, readiness: { ready: false as const, failed: false, reason: 'x' }, drift: [] }));
  const s = computeStatus(input({ observed: many }));
  t.equal(s.nonReady.length, 50);
  t.match(s.message, /^120 object\(s\) not ready/);
});
