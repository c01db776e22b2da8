import t from 'tap';
import { jsonDepth, valueDepth } from './json-depth.ts';

t.test('jsonDepth counts brackets outside strings', async (t) => {
  t.equal(jsonDepth('{}', 10), 1);
  t.equal(jsonDepth('1', 10), 0);
  t.equal(jsonDepth('{"a":[{"b":[]}]}', 10), 4);
  t.equal(jsonDepth('{"a":"[[[[[[[[[[[[\\"[[[["}', 3), 1, 'brackets in strings and escaped quotes do not count');
  t.equal(jsonDepth('['.repeat(5000) + ']'.repeat(5000), 32), 33, 'stops at the limit');
  t.equal(jsonDepth('[[[', 10), 3, 'malformed text is measured, not refused');
});

t.test('valueDepth measures parsed values without recursion', async (t) => {
  t.equal(valueDepth('x', 5), 0);
  t.equal(valueDepth({ a: [1, { b: {} }] }, 5), 4);
  let deep: unknown = [];
  for (let i = 0; i < 100_000; i++) deep = [deep];
  t.equal(valueDepth(deep, 64), 65);
});
