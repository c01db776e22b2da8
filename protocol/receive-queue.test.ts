// The receive queue (receive-queue.ts): small payloads are copied densely into a tail buffer that
// starts small and grows, so a one-reply stream costs little and a flood of tiny frames stays
// in few chunks.
import t from 'tap';
import fc from 'fast-check';
import { ReceiveQueue } from './receive-queue.ts';
import { COPY_BELOW_BYTES, RECEIVE_TAIL_BYTES, RECEIVE_TAIL_FIRST_BYTES } from './limits.ts';

t.test('receive queue: one small reply is copied into a first tail of RECEIVE_TAIL_FIRST_BYTES, not a full tail', async (t) => {
  const q = new ReceiveQueue();
  const c = q.adopt(Buffer.alloc(300, 1));
  t.equal(q.tailCapacity, RECEIVE_TAIL_FIRST_BYTES);
  t.ok(RECEIVE_TAIL_FIRST_BYTES < RECEIVE_TAIL_BYTES);
  t.equal(c.length, 300);
});

t.test('receive queue: the tail grows by doubling up to RECEIVE_TAIL_BYTES while small frames keep coming', async (t) => {
  const q = new ReceiveQueue();
  const sizes = new Set<number>();
  for (let i = 0; i < 40 * 1024; i += 100) {
    q.push(q.adopt(Buffer.alloc(100, i & 0xff)));
    sizes.add(q.tailCapacity);
  }
  t.equal(q.bytes, 41000);
  t.ok(Math.max(...sizes) === RECEIVE_TAIL_BYTES, `tail sizes ${[...sizes].join(', ')}`);
  t.ok([...sizes].every((n) => n === RECEIVE_TAIL_BYTES || n * 2 >= RECEIVE_TAIL_FIRST_BYTES), 'doubling');
  t.ok(q.count <= 12, `held in ${q.count} chunks`);
});

t.test('receive queue: bytes come out intact and in order whatever the payload sizes', async (t) => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: COPY_BELOW_BYTES + 100 }), { maxLength: 60 }), (sizes) => {
    const q = new ReceiveQueue();
    let v = 0;
    for (const n of sizes) {
      const p = Buffer.alloc(n);
      for (let i = 0; i < n; i++) p[i] = v++ & 0xff;
      q.push(q.adopt(p));
    }
    const out: Uint8Array[] = [];
    for (let c = q.shift(); c !== undefined; c = q.shift()) out.push(c);
    const all = Buffer.concat(out);
    return all.length === v && all.every((b, i) => b === (i & 0xff)) && q.bytes === 0;
  }), { numRuns: 300 });
});
