// Issue 4 acceptance: 500 simulated agents (one process, one TunnelClient each — the same client
// `drover agent run` uses) register and connect to a real `drover server`; the server restarts;
// every agent reconnects by itself and none is lost. The server sheds load with 503 + Retry-After
// while the storm lasts; the clients honour it. Bounded by a generous deadline, not a timing claim.
import t from 'tap';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetchCa, register, type RegisterReply } from '../../agents/common/server-api.ts';
import { transportFor } from '../../agents/common/https-client.ts';
import { AgentError } from '../../agents/common/errors.ts';
import { TunnelClient } from '../../agents/common/tunnel-client.ts';
import { silentLogger } from '../../agents/common/logger.ts';
import { counterTotal, createToken, serverGet, startServer, waitFor, type ServerProc, testDir } from './agent-helpers.ts';

const AGENTS = Number(process.env.DROVER_E2E_AGENTS ?? 500);
const REGISTER_CONCURRENCY = 32;
const DEADLINE_MS = 240_000;

async function registerWithRetry(server: string, ca: string, token: string, i: number): Promise<RegisterReply> {
  const transport = transportFor(server, {});
  for (;;) {
    try {
      return await register(server, ca, transport, {
        token, name: `sim-${i}`, labels: { sim: 'scale' }, roles: ['cluster'], hostname: `sim-${i}`,
        facts: { hostname: `sim-${i}`, os: 'linux', arch: 'amd64', agentVersion: 'sim' },
      });
    } catch (err) {
      if (!(err instanceof AgentError && err.code === 'OVERLOADED')) throw err;
      await sleep((err.retryAfterMs ?? 1000) + Math.random() * 1000);
    }
  }
}

async function sessionsGauge(server: ServerProc): Promise<number> {
  return counterTotal((await serverGet(server, '/metrics')).body, 'drover_server_sessions');
}

t.test(`${AGENTS} simulated agents register, connect, and all reconnect after a server restart`, async (t) => {
  const serverDir = path.join(testDir(t), 'server');
  let server = await startServer(serverDir, 0, { DROVER_LOG_LEVEL: 'info' });
  t.teardown(() => server.proc.stop());
  const joinToken = await createToken(serverDir, ['--uses', '0', '--labels', 'sim=scale']);
  const secretPart = joinToken.slice(joinToken.indexOf('::') + 2);
  const ca = await fetchCa(server.url, transportFor(server.url, {}));

  const identities: RegisterReply[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: REGISTER_CONCURRENCY }, async () => {
    while (next < AGENTS) {
      const i = next++;
      identities[i] = await registerWithRetry(server.url, ca.pem, secretPart, i);
    }
  }));
  t.equal(new Set(identities.map((r) => r.agentId)).size, AGENTS, `${AGENTS} distinct identities`);

  const log = silentLogger();
  const transport = transportFor(server.url, {});
  const clients = identities.map((id) => new TunnelClient({
    serverUrl: server.url, role: 'cluster', agentId: id.agentId, agentVersion: 'sim',
    credential: () => id.credential, ca: ca.pem, agent: transport.agent,
    backoff: { baseMs: 250, capMs: 5_000, stableAfterMs: 30_000, maxExponent: 30 },
    random: Math.random, now: Date.now, logger: log,
    facts: async () => ({ hostname: id.agentId, os: 'linux', arch: 'amd64', agentVersion: 'sim' }),
  }));
  t.teardown(() => Promise.all(clients.map((c) => c.stop())));
  for (const c of clients) c.start();
  const connected = (): number => clients.filter((c) => c.state.state === 'connected').length;

  const startedAt = performance.now();
  await waitFor(`${AGENTS} tunnels connected`, () => connected() === AGENTS, DEADLINE_MS);
  t.comment(`all ${AGENTS} connected ${Math.round(performance.now() - startedAt)} ms after start (figure, not asserted)`);
  t.equal(connected(), AGENTS, 'every simulated agent is connected');
  t.equal(await waitFor('server session gauge', async () => ((await sessionsGauge(server)) === AGENTS ? AGENTS : undefined), 30_000), AGENTS, 'the server holds one session per agent');

  await server.proc.stop('SIGTERM');
  await waitFor('every client to notice the restart', () => connected() === 0, 60_000);
  server = await startServer(serverDir, server.port, { DROVER_LOG_LEVEL: 'info' });
  const restartedAt = performance.now();

  await waitFor(`${AGENTS} tunnels reconnected`, () => connected() === AGENTS && clients.every((c) => c.connections >= 2), DEADLINE_MS);
  t.comment(`all ${AGENTS} reconnected ${Math.round(performance.now() - restartedAt)} ms after the server listened again (figure, not asserted)`);
  t.ok(clients.every((c) => c.connections >= 2), 'every client connected again on its own');
  t.equal(await waitFor('server session gauge after restart', async () => ((await sessionsGauge(server)) === AGENTS ? AGENTS : undefined), 30_000), AGENTS, 'none lost: one session per agent again');
  const shed = counterTotal((await serverGet(server, '/metrics')).body, 'drover_server_shed_total');
  t.comment(`load shed during the reconnect storm: ${shed} refusals (503 + Retry-After)`);
});
