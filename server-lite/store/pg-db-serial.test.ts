// A transaction's connection runs one statement at a time (pg-db.ts `serial`): two statements
// started together inside PgDb.tx fail at once with a message naming them, instead of pg's
// deprecation warning "client.query() when the client is already executing a query" (seen once in
// the suite; its source was a test sharing one pg.Client between concurrent checks). Statements on
// the pool itself may run concurrently: each takes its own connection.
import t from 'tap';
import { startPostgres } from '../../test/pg/harness.ts';
import { PgDb } from './pg-db.ts';

t.test('PgDb: a transaction refuses concurrent statements; the pool allows them', async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const db = new PgDb(await pg.createDatabase(), { max: 4 });
  t.teardown(() => db.close());
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));

  await db.run('CREATE TABLE x (v BIGINT)');
  await t.rejects(
    db.tx(async (sql) => {
      await Promise.all([sql.run('INSERT INTO x VALUES (1)'), sql.run('INSERT INTO x VALUES (2)')]);
    }),
    { message: /one transaction ran two statements at once \("INSERT INTO x VALUES \(2\)" while "INSERT INTO x VALUES \(1\)" ran\)/ },
  );
  t.same(await db.rows('SELECT v FROM x'), [], 'rolled back: nothing stored');
  await db.tx(async (sql) => {
    await sql.run('INSERT INTO x VALUES (?)', [1]);
    await sql.run('INSERT INTO x VALUES (?)', [2]);
  });
  t.same((await db.rows('SELECT v FROM x ORDER BY v')).map((r) => Number(r.v)), [1, 2], 'awaited one by one: committed');
  const counts = await Promise.all([1, 2, 3, 4, 5, 6].map(() => db.one('SELECT COUNT(*) AS n FROM x')));
  t.same(counts.map((r) => Number(r?.n)), [2, 2, 2, 2, 2, 2], 'the pool runs concurrent statements on several connections');
  await new Promise((r) => setImmediate(r));
  t.same(warnings.filter((w) => /already executing a query/.test(w)), [], 'no pg deprecation warning');
});
