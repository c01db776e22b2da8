import t from 'tap';
import Database from 'better-sqlite3';
import { createSeqOutbox } from './seq-outbox.ts';

function open() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE q (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, created_at TEXT NOT NULL); CREATE TABLE m (key TEXT PRIMARY KEY, value TEXT NOT NULL);');
  return db;
}

t.test('seq outbox: entries drain in order and leave only when acknowledged; seqs are never reused', async (t) => {
  const q = createSeqOutbox<{ n: number }>(open(), { table: 'q', meta: 'm', maxRows: 10 });
  const now = new Date(0);
  for (let n = 1; n <= 3; n++) q.enqueue({ n }, now);
  t.same(q.peek(2).map((r) => r.entry.n), [1, 2]);
  t.same(q.peek(2).map((r) => r.entry.n), [1, 2], 'peek does not remove');
  t.equal(q.ack(q.peek(2).at(-1)?.seq ?? 0), 2);
  t.same(q.peek(10).map((r) => r.entry.n), [3]);
  q.ack(3);
  const seq = q.enqueue({ n: 4 }, now);
  t.equal(seq, 4, 'AUTOINCREMENT: an acknowledged seq is not handed out again');
});

t.test('seq outbox: past the bound the oldest go and are counted', async (t) => {
  const q = createSeqOutbox<{ n: number }>(open(), { table: 'q', meta: 'm', maxRows: 3 });
  for (let n = 1; n <= 5; n++) q.enqueue({ n }, new Date(0));
  t.equal(q.length(), 3);
  t.same(q.peek(10).map((r) => r.entry.n), [3, 4, 5]);
  t.equal(q.dropped(), 2);
  t.throws(() => createSeqOutbox(open(), { table: 'q; drop', meta: 'm', maxRows: 1 }));
});
