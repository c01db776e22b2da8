// Issue 14, findings 6 and 7, against a real in-process server: a fleet agent (real endpoint,
// in-memory SQLite, fake Kubernetes) behind a real fleet-role tunnel whose outbox holds a row of
// the wrong shape between two good ones; and the modes of the fleet database files.
import t from 'tap';
import { statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import Database from 'better-sqlite3';
import { createStreamHttpServer, type TunnelStream } from '../../protocol/index.ts';
import { createFleetAgent } from '../../agents/fleet/fleet-agent.ts';
import { fleetEndpoint } from '../../agents/fleet/fleet-endpoint.ts';
import { FakeKube } from '../fakes/fake-kube.ts';
import { memoryDb } from '../../agents/fleet/test-fixtures.ts';
import { connectTunnel, createToken, eventually, registerAgent, serverForTest } from './server-harness.ts';

const log = pino({ level: 'silent' });

t.test('6. an outbox row of the wrong shape is quarantined and the rows after it still arrive, in order', async (t) => {
  const server = await serverForTest(t);
  const reg = await registerAgent(server, (await createToken(server)).secret);
  const db = memoryDb();
  const agent = createFleetAgent({ db, kube: new FakeKube({ namespaces: ['x'] }), log });
  const status = (message: unknown) => JSON.stringify({ deploymentId: 'web', bundle: 'web', revision: 'r1', appliedRevision: 'r1', state: 'Ready', message, nonReady: [], modified: [] });
  const insert = db.prepare('INSERT INTO fleet_outbox (deployment_id, revision, state, fingerprint, status, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  for (const [i, message] of (['first', 42, 'third'] as const).entries()) insert.run('web', 'r1', 'Ready', `fp${i}`, status(message), '2026-11-24T08:00:00.000Z');
  t.equal(agent.pendingStatuses(10).length, 3);

  const endpoint = fleetEndpoint(agent, log);
  const http = createStreamHttpServer({ request: (req, res) => endpoint(req, res) });
  const tunnel = await connectTunnel(server, reg.credential, 'fleet');
  tunnel.session.on('stream', (s: TunnelStream) => http.serve(s));
  t.teardown(() => tunnel.ws.terminate());
  await tunnel.ready;

  await eventually(() => agent.pendingStatuses(10).length === 0, 'the outbox drains past the bad row', 400);
  const fleetDb = new Database(join(server.dataDir, 'fleet.db'), { readonly: true });
  t.teardown(() => fleetDb.close());
  t.equal(fleetDb.prepare('SELECT last_seq FROM fleet_agent_seq WHERE agent_id = ?').pluck().get(reg.agentId), 3, 'every seq consumed, once');
  const q = fleetDb.prepare('SELECT seq, reason, raw FROM fleet_status_quarantine WHERE agent_id = ?').all(reg.agentId) as { seq: number; reason: string; raw: string }[];
  t.same(q.map((r) => r.seq), [2], 'the bad row is kept aside, not lost');
  t.match(q[0]?.reason, /status\.message/);
  t.match(q[0]?.raw, /"message":42/);
});

t.test('7. fleet.db and its -wal/-shm files are private (0600), like server.db', async (t) => {
  const server = await serverForTest(t);
  // The fleet store writes (migrations) at start, so the WAL files exist.
  for (const name of ['fleet.db', 'fleet.db-wal', 'fleet.db-shm', 'server.db', 'server.db-wal', 'server.db-shm']) {
    const file = join(server.dataDir, name);
    if (!existsSync(file)) continue;
    t.equal((statSync(file).mode & 0o777).toString(8), '600', `${name} is 0600`);
  }
  t.ok(existsSync(join(server.dataDir, 'fleet.db-wal')), 'the WAL file was checked');
});
