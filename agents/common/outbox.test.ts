// The sequenced outbox rule on a table of its own (the fleet's wrapper has its own tests).
import t from 'tap';
import Database from 'better-sqlite3';
import { createSeqOutbox } from './outbox.ts';

function outbox(maxRows = 100) {
  const db = new Database(':memory:');
  db.exec(`CREATE TABLE o (seq INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT NOT NULL, tag TEXT NOT NULL, fingerprint TEXT NOT NULL, b TEXT NOT NULL, created_at TEXT NOT NULL);
           CREATE TABLE m (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
  return { db, box: createSeqOutbox(db, { table: 'o', keyColumn: 'k', bodyColumn: 'b', extraColumns: ['tag'], metaTable: 'm', maxRows }) };
}
const at = new Date(0);

t.test('seq outbox: rows drain in order with their extras, leave on ack, sequences never reused', async (t) => {
  const { box } = outbox();
  const a = box.enqueue({ key: 'x', fingerprint: '1', body: 'one', extras: { tag: 't1' } }, at)!;
  const b = box.enqueue({ key: 'y', fingerprint: '1', body: 'two' }, at)!;
  t.same(box.peek(10).map((r) => [r.seq, r.key, r.body, r.extras.tag]), [[a, 'x', 'one', 't1'], [b, 'y', 'two', '']]);
  t.equal(box.ack(b), 2);
  const c = box.enqueue({ key: 'x', fingerprint: '2', body: 'three' }, at)!;
  t.ok(c > b, 'a new row after everything was acknowledged gets a higher sequence');
});

t.test('seq outbox: the same fingerprint twice for a key is queued once; `also` runs only when queued; forget re-arms', async (t) => {
  const { box } = outbox();
  let also = 0;
  t.ok(box.enqueue({ key: 'x', fingerprint: 'f', body: 'b' }, at, () => also++));
  t.equal(box.enqueue({ key: 'x', fingerprint: 'f', body: 'b' }, at, () => also++), undefined);
  t.equal(also, 1);
  box.forget('x');
  t.ok(box.enqueue({ key: 'x', fingerprint: 'f', body: 'b' }, at));
});

t.test('seq outbox: past the bound, superseded rows go first; the latest of each key stays', async (t) => {
  const { box } = outbox(2);
  for (let i = 0; i < 5; i++) box.enqueue({ key: 'x', fingerprint: String(i), body: String(i) }, at);
  box.enqueue({ key: 'y', fingerprint: '0', body: 'y' }, at);
  t.same(box.peek(10).map((r) => r.body), ['4', 'y']);
  t.equal(box.coalesced(), 4);
});

t.test('seq outbox: table names must be plain identifiers', async (t) => {
  const { db } = outbox();
  t.throws(() => createSeqOutbox(db, { table: 'o; DROP TABLE m', keyColumn: 'k', bodyColumn: 'b', extraColumns: [], metaTable: 'm', maxRows: 1 }), /plain SQL identifier/);
});
