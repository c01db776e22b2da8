import t from 'tap';
import fc from 'fast-check';
import { parseQuantity, sameQuantity } from './quantity.ts';
import { diffObject } from './drift.ts';
import { deploymentObj } from './test-fixtures.ts';

t.test('quantity: canonical forms the apiserver writes back equal what the manifest said', async (t) => {
  t.ok(sameQuantity('0.5', '500m'));
  t.ok(sameQuantity('1024Mi', '1Gi'));
  t.ok(sameQuantity('1000m', '1'));
  t.ok(sameQuantity(2, '2'));
  t.ok(sameQuantity('1e3', '1k'));
  t.notOk(sameQuantity('1G', '1Gi'), 'decimal and binary suffixes differ');
  t.notOk(sameQuantity('500m', '600m'));
  t.equal(parseQuantity('abc'), undefined);
  t.equal(parseQuantity('1.5Gi'), 1.5 * 2 ** 30);
});

t.test('quantity: property — n milli-units equal n/1000 units', async (t) => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000 }), (n) => sameQuantity(`${n}m`, String(n / 1000))));
  t.pass();
});

t.test('drift: resources written as 0.5 / 1024Mi are in sync with the canonical 500m / 1Gi', async (t) => {
  const want = deploymentObj('web', 'x');
  (want.spec as any).template.spec.containers[0].resources = { requests: { cpu: '0.5', memory: '1024Mi' } };
  const live = deploymentObj('web', 'x');
  (live.spec as any).template.spec.containers[0].resources = { requests: { cpu: '500m', memory: '1Gi' } };
  t.same(diffObject(want, live), []);
  (live.spec as any).template.spec.containers[0].resources.requests.cpu = '250m';
  t.same(diffObject(want, live), ['/spec/template/spec/containers/0/resources/requests/cpu']);
});
