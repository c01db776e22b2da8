import t from 'tap';
import { checkOutboxRows, MAX_QUARANTINED_RAW_BYTES } from './outbox-rows.ts';

const good = (seq: number) => ({ seq, createdAt: '2026-11-24T08:00:00Z', status: { bundle: 'app', revision: 'r1', state: 'Ready', message: '', nonReady: [] } });

t.test('valid rows pass, bad ones are quarantined with the reason and the seq', async (t) => {
  const r = checkOutboxRows({ rows: [good(1), { ...good(2), status: { ...good(2).status, message: 42 } }, good(3), { seq: 4, status: null }] });
  t.same(r.rows.map((x) => x.seq), [1, 3]);
  t.same(r.quarantined.map((x) => x.seq), [2, 4]);
  t.match(r.quarantined[0]?.reason, /^status\.message: /);
  t.match(r.quarantined[0]?.raw, /"message":42/);
});

t.test('no order, no answer: a missing rows array or a row without an integer seq is refused', async (t) => {
  t.throws(() => checkOutboxRows({}), /rows array/);
  t.throws(() => checkOutboxRows(null), /rows array/);
  t.throws(() => checkOutboxRows({ rows: [good(1), { seq: 'x' }] }), /integer seq/);
});

t.test('quarantined raw text is bounded', async (t) => {
  const r = checkOutboxRows({ rows: [{ seq: 1, status: { bundle: 'a', message: 'x'.repeat(100_000) } }] });
  t.ok(Buffer.byteLength(r.quarantined[0]?.raw ?? '') <= MAX_QUARANTINED_RAW_BYTES);
});
