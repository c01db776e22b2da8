import t from 'tap';
import { checkLedger } from './ledger.ts';

const rows = (...seqs: number[]) => seqs.map((seq, i) => ({ seq, receivedAt: i * 10 }));

t.test('a complete, ordered ledger', async (t) => {
  t.match(checkLedger({ lastSeq: 3, pending: 0, coalesced: 0 }, rows(1, 2, 3), 3), { lost: 0, missing: [], duplicated: [], reordered: 0, stored: 3, expected: 3 });
});

t.test('lost, duplicated and reordered rows are named', async (t) => {
  const r = checkLedger({ lastSeq: 5, pending: 0, coalesced: 0 }, rows(1, 3, 2, 3, 5), 5);
  t.equal(r.lost, 1);
  t.same(r.missing, [4]);
  t.same(r.duplicated, [3]);
  t.equal(r.reordered, 1, '2 after 3 (the second 3 is a duplicate, not a reorder)');
});

t.test('rows stored in one batch (same time) are ordered by seq', async (t) => {
  t.equal(checkLedger({ lastSeq: 2, pending: 0, coalesced: 0 }, [{ seq: 2, receivedAt: 5 }, { seq: 1, receivedAt: 5 }], 2).reordered, 0);
});
