// The audit writer against the real SQLite store: batches keep queue order across flushes, a
// failed write is retried in order (no gap, no reordering in the chain), and the JSON-lines copy
// matches the store row for row.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteStore } from '../store/sqlite-store.ts';
import { AuditWriter } from './audit-writer.ts';
import { verifyChain } from './audit-chain.ts';
import type { AuditFields } from '../store/store.ts';

const row = (i: number): AuditFields => ({ at: i, user: 'u', idp: 'local', clusterId: null, verb: 'get', path: `/p/${i}`, status: 200, latencyMs: 1 });

t.test('audit writer: ordered batches, a failed write retried in order, the log mirrors the store', async (t) => {
  const dir = t.testdir();
  const store = new SqliteStore(join(dir, 'server.db'));
  t.teardown(() => store.close());
  const file = join(dir, 'audit.log');
  const writer = await AuditWriter.open(store, file, pino({ level: 'silent' }));
  for (let i = 1; i <= 3; i++) writer.record(row(i));
  await writer.flush();
  // One failing append: the batch goes back to the queue, ahead of newer rows.
  const append = store.appendAudit.bind(store);
  let failOnce = true;
  store.appendAudit = async (rows) => {
    if (failOnce) {
      failOnce = false;
      throw new Error('disk full');
    }
    return append(rows);
  };
  writer.record(row(4));
  await writer.flush();
  writer.record(row(5));
  await writer.flush();
  const rows = await store.listAudit();
  t.same(rows.map((r) => r.path), ['/p/1', '/p/2', '/p/3', '/p/4', '/p/5']);
  t.equal(verifyChain(rows), undefined);
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number; hash: string });
  t.same(lines.map((l) => [l.seq, l.hash]), rows.map((r) => [r.seq, r.hash]));

  // A new writer continues the chain from the store.
  const again = await AuditWriter.open(store, file, pino({ level: 'silent' }));
  again.record(row(6));
  await again.flush();
  const all = await store.listAudit();
  t.equal(all.at(-1)?.seq, 6);
  t.equal(verifyChain(all), undefined);
});
