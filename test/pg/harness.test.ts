// The PostgreSQL test harness itself: a real server starts, takes connections on loopback and on
// its unix socket, keeps its data across an immediate (crash-like) restart, and is gone after stop().
import { existsSync } from 'node:fs';
import pg from 'pg';
import t from 'tap';
import { startPostgres } from './harness.ts';

t.test('startPostgres: loopback and socket, restart keeps data, stop removes it', async (t) => {
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const url = await server.createDatabase('harness_one');
  const c1 = new pg.Client({ connectionString: url });
  await c1.connect();
  await c1.query('CREATE TABLE x (v INTEGER)');
  await c1.query('INSERT INTO x VALUES (42)');
  await c1.end();

  const viaSocket = new pg.Client({ host: server.socketDir, port: server.port, user: server.user, password: server.password, database: 'harness_one' });
  await viaSocket.connect();
  t.same((await viaSocket.query('SELECT v FROM x')).rows, [{ v: 42 }]);
  await viaSocket.end();

  await server.restart('immediate');
  const c2 = new pg.Client({ connectionString: url });
  await c2.connect();
  t.same((await c2.query('SELECT v FROM x')).rows, [{ v: 42 }], 'data survives an immediate restart');
  await c2.end();

  await server.halt();
  const c3 = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await t.rejects(c3.connect(), 'halted: unreachable');
  await server.start();

  await server.stop();
  t.notOk(existsSync(server.dir), 'stop() removes the directory');
});
