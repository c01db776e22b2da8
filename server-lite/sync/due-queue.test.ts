import t from 'tap';
import { DueQueue } from './due-queue.ts';

t.test('due keys come out earliest first, ties in insertion order, only when due', (t) => {
  const q = new DueQueue();
  q.set('c', 30);
  q.set('a', 10);
  q.set('b', 10);
  t.equal(q.peekAt(), 10);
  t.equal(q.popDue(5), undefined, 'nothing due yet');
  t.equal(q.popDue(10), 'a');
  t.equal(q.popDue(10), 'b');
  t.equal(q.popDue(29), undefined);
  t.equal(q.popDue(100), 'c');
  t.equal(q.size, 0);
  t.end();
});

t.test('rescheduling and deleting a key leaves no stale entry behind', (t) => {
  const q = new DueQueue();
  for (let i = 0; i < 1000; i++) q.set(`k${i % 10}`, 1000 - i);
  t.equal(q.size, 10);
  const out: string[] = [];
  for (let k = q.popDue(Infinity); k !== undefined; k = q.popDue(Infinity)) out.push(k);
  t.same(out, ['k9', 'k8', 'k7', 'k6', 'k5', 'k4', 'k3', 'k2', 'k1', 'k0'], 'each key once, at its last schedule');
  q.set('x', 1);
  q.set('y', 2);
  q.delete('x');
  t.equal(q.peekAt(), 2);
  t.equal(q.popDue(5), 'y');
  t.equal(q.peekAt(), undefined);
  t.end();
});
