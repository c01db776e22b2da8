// Wake-up hints over LISTEN/NOTIFY on Debian's PostgreSQL (test/pg/harness.ts): a hint reaches the
// other replica's listeners and not the sender's own; when the listening session is terminated by
// the database (pg_terminate_backend) or the database restarts, the listener connects again,
// LISTENs again and tells its listeners that hints may have been missed; hints flow again after.
// Without a transport (SQLite) the bus is local: notify does nothing.
import t from 'tap';
import pino from 'pino';
import pg from 'pg';
import { Registry } from 'prom-client';
import { systemClock } from '../../protocol/index.ts';
import { PgDb } from '../store/pg-db.ts';
import { startPostgres } from '../../test/pg/harness.ts';
import { waitFor } from '../../test/e2e/agent-helpers.ts';
import { HintBus, HINT_CHANNELS, type Hint } from './hints.ts';
import { PgHints } from './pg-hints.ts';

const log = pino({ level: process.env.DROVER_TEST_LOG ?? 'silent' });

t.test('hints without a transport are local no-ops', async (t) => {
  const bus = new HintBus(log);
  const got: Hint[] = [];
  bus.on(HINT_CHANNELS.fleet, (h) => got.push(h));
  bus.notify(HINT_CHANNELS.fleet, 'x');
  t.notOk(bus.connected);
  t.same(got, [], 'nothing is delivered, not even locally');
});

t.test('hints over LISTEN/NOTIFY survive a terminated listener and a database restart', async (t) => {
  const postgres = await startPostgres();
  t.teardown(() => postgres.stop());
  const url = await postgres.createDatabase('hints');
  const db = new PgDb(url);
  t.teardown(() => db.close());
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.teardown(() => admin.end().catch(() => undefined));

  const replica = (id: string) => {
    const registry = new Registry();
    const bus = new HintBus(log, registry);
    const transport = new PgHints({
      url, run: (sql, args) => db.run(sql, args), replicaId: id,
      deliver: (c, m) => bus.deliver(c, m), resynced: () => bus.resynced(),
      timers: systemClock, reconnectMs: 100, log,
    });
    const got: Hint[] = [];
    bus.on(HINT_CHANNELS.routes, (h) => got.push(h));
    bus.attach(transport, id);
    transport.start();
    t.teardown(() => bus.stop());
    return { bus, transport, got, registry };
  };
  const a = replica('ra');
  const b = replica('rb');
  await waitFor('both listening', () => a.transport.listening && b.transport.listening);

  a.bus.notify(HINT_CHANNELS.routes, 'first');
  await waitFor('the hint at rb', () => b.got.length === 1);
  t.same(b.got, [{ payload: 'first', from: 'ra' }], 'rb got ra’s hint with its payload');
  b.bus.notify(HINT_CHANNELS.lease, 'git-polling');
  a.bus.notify(HINT_CHANNELS.routes, 'second');
  await waitFor('the second hint at rb', () => b.got.length === 2);
  t.same(a.got, [], 'a replica does not wake itself, and channels nobody listens on reach nobody');
  t.match(await b.registry.metrics(), /drover_server_ha_hints_total\{channel="routes",event="received"\} 2/);

  // The database drops rb's listening session: rb listens again and looks once (missed hints).
  const killed = await admin.query("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'drover-hints rb'");
  t.equal(killed.rowCount, 1, 'one listening session per replica');
  await waitFor('rb resynced', () => b.got.some((h) => h.from === null));
  await waitFor('rb listening again', () => b.transport.listening);
  a.bus.notify(HINT_CHANNELS.routes, 'third');
  await waitFor('a hint after the reconnect', () => b.got.some((h) => h.payload === 'third'));
  t.pass('hints flow again on the new session');

  // A database restart: both reconnect on their own.
  const before = b.got.length;
  await admin.end();
  await postgres.restart('immediate');
  await waitFor('both listening after the restart', () => a.transport.listening && b.transport.listening && b.got.length > before);
  t.ok(b.got.slice(before).some((h) => h.from === null), 'the restart counts as possibly missed hints');
  await waitFor('a hint after the restart', async () => {
    a.bus.notify(HINT_CHANNELS.routes, 'fourth');
    await new Promise((r) => setTimeout(r, 200));
    return b.got.some((h) => h.payload === 'fourth');
  });
  t.pass('hints flow after the database restarted');
});
