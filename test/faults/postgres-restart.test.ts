// Issue 17: the server on Debian's PostgreSQL when the database goes away. While it is down
// /readyz answers 503 NOT_READY, the open agent tunnel stays up (nothing closes it, and the
// lastSeen flushes that fail are retried, not fatal); when PostgreSQL is back the server is ready
// again by itself and serves from the database, on the same tunnel. Both a clean shutdown
// (halt/start, unreachable meanwhile) and a crash-like immediate restart.
import t from 'tap';
import pino from 'pino';
import { WebSocket } from 'ws';
import { startServer } from '../../server-lite/server.ts';
import { startPostgres } from '../pg/harness.ts';
import { api, connectTunnel, createToken, errorCode, registerAgent, removeDir, tempDir } from '../integration/server-harness.ts';
import { waitFor } from '../e2e/agent-helpers.ts';

t.test('PostgreSQL down: not ready, tunnels kept, recovers by itself', async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const dataDir = tempDir();
  const server = await startServer(
    { dataDir, host: '127.0.0.1', port: 0, tlsSans: [], datastore: await pg.createDatabase('faults') },
    { log: pino({ level: process.env.DROVER_TEST_LOG ?? 'silent' }), defaultMetrics: false },
  );
  t.teardown(async () => {
    await server.close();
    removeDir(dataDir);
  });
  const agent = await registerAgent(server, (await createToken(server)).secret);
  const tunnel = await connectTunnel(server, agent.credential, 'node');
  await tunnel.ready;
  let tunnelClosed = false;
  void tunnel.closed.then(() => (tunnelClosed = true));
  t.equal((await api(server, 'GET', '/readyz')).status, 200);

  for (const mode of ['fast', 'immediate'] as const) {
    await pg.halt(mode);
    const down = await waitFor('/readyz to report not ready', async () => {
      const r = await api(server, 'GET', '/readyz');
      return r.status === 503 ? r : undefined;
    });
    t.equal(errorCode(down), 'NOT_READY', `${mode}: /readyz says NOT_READY`);
    t.equal((await api(server, 'GET', '/healthz')).status, 200, `${mode}: the process itself is alive`);
    // Whatever runs meanwhile (lastSeen flushes, RBAC and facts pollers) fails and is retried.
    await server.flush().catch(() => undefined);
    t.equal(tunnel.ws.readyState, WebSocket.OPEN, `${mode}: the tunnel stays open`);
    t.equal(server.ctx.sessions.size, 1, `${mode}: its session is still registered`);

    await pg.start();
    await waitFor('/readyz ready again', async () => (await api(server, 'GET', '/readyz')).status === 200);
    const clusters = await api(server, 'GET', '/v1/clusters', { bearer: server.adminToken });
    t.equal(clusters.status, 200, `${mode}: served from the database again`);
    t.match(clusters.text, agent.clusterId);
    await server.flush();
    t.notOk(tunnelClosed, `${mode}: the same tunnel, never closed`);
  }
});
