// Label selectors: Kubernetes semantics for matchLabels and the four matchExpressions operators.
import t from 'tap';
import fc from 'fast-check';
import { matchesSelector, parseSelectorString, validateSelector } from './label-selector.ts';
import { FleetError } from './errors.ts';

const labels = { env: 'edge', tier: 'a' };

t.test('selector: matchLabels needs every pair; empty selector matches everything', async (t) => {
  t.ok(matchesSelector({ matchLabels: { env: 'edge' } }, labels));
  t.notOk(matchesSelector({ matchLabels: { env: 'edge', tier: 'b' } }, labels));
  t.ok(matchesSelector({}, {}));
  t.notOk(matchesSelector({ matchLabels: { toString: 'x' } }, {}), 'prototype keys are not labels');
});

t.test('selector: In, NotIn, Exists, DoesNotExist as in Kubernetes (NotIn matches a missing key)', async (t) => {
  t.ok(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] }, labels));
  t.notOk(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, labels));
  t.notOk(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] }, labels));
  t.ok(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels));
  t.ok(matchesSelector({ matchExpressions: [{ key: 'env', operator: 'Exists' }] }, labels));
  t.notOk(matchesSelector({ matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, labels));
  t.ok(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels));
});

t.test('selector: properties (NotIn is the negation of In, DoesNotExist of Exists, matchLabels equals In with one value)', async () => {
  const key = fc.constantFrom('a', 'b', 'c');
  const val = fc.constantFrom('1', '2', '3');
  const labelsArb = fc.dictionary(key, val);
  fc.assert(
    fc.property(labelsArb, key, fc.array(val, { minLength: 1, maxLength: 3 }), val, (ls, k, vs, v) => {
      const inSel = matchesSelector({ matchExpressions: [{ key: k, operator: 'In', values: vs }] }, ls);
      const notIn = matchesSelector({ matchExpressions: [{ key: k, operator: 'NotIn', values: vs }] }, ls);
      const exists = matchesSelector({ matchExpressions: [{ key: k, operator: 'Exists' }] }, ls);
      const absent = matchesSelector({ matchExpressions: [{ key: k, operator: 'DoesNotExist' }] }, ls);
      const eq = matchesSelector({ matchLabels: { [k]: v } }, ls);
      const in1 = matchesSelector({ matchExpressions: [{ key: k, operator: 'In', values: [v] }] }, ls);
      return inSel === !notIn && exists === !absent && eq === in1;
    }),
  );
});

t.test('selector: malformed expressions are SELECTOR_INVALID', async (t) => {
  t.throws(() => validateSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, 'x'), FleetError);
  t.throws(() => validateSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['v'] }] }, 'x'), FleetError);
  t.doesNotThrow(() => validateSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['v'] }] }, 'x'));
});

t.test('selector: Kubernetes selector text parses; anything else is SELECTOR_INVALID', async (t) => {
  t.same(parseSelectorString('env=edge, tier==a'), { matchLabels: { env: 'edge', tier: 'a' } });
  t.same(parseSelectorString(''), { matchLabels: {} });
  t.same(parseSelectorString('env in (edge, core),zone notin (x),gpu,!legacy,tier!=db'), {
    matchLabels: {},
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['edge', 'core'] },
      { key: 'zone', operator: 'NotIn', values: ['x'] },
      { key: 'gpu', operator: 'Exists' },
      { key: 'legacy', operator: 'DoesNotExist' },
      { key: 'tier', operator: 'NotIn', values: ['db'] },
    ],
  });
  t.same(parseSelectorString('example.com/role=store'), { matchLabels: { 'example.com/role': 'store' } });
  for (const bad of ['=x', 'a in ()', 'a in (x', 'a b', '!']) t.throws(() => parseSelectorString(bad), { code: 'SELECTOR_INVALID' }, bad);
  const sel = parseSelectorString('env in (edge),!legacy');
  t.ok(matchesSelector(sel, { env: 'edge' }));
  t.notOk(matchesSelector(sel, { env: 'edge', legacy: '' }));
});
