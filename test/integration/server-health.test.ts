// Connected / Stale / Offline with lastSeen, computed from an injected clock (issue 4): a cluster
// is never shown Connected once its heartbeats stop, even while the TCP connection looks open.
import t from 'tap';
import { api, connectTunnel, createToken, eventually, registerAgent, removeDir, startTestServer, TestClock } from './server-harness.ts';

const clock = new TestClock();
const interval = 15_000;
const server = await startTestServer({ clock, health: { heartbeatIntervalMs: interval, staleAfterIntervals: 2, offlineAfterMs: 300_000 } });
t.teardown(async () => {
  await server.close();
  removeDir(server.dataDir);
});

const cluster = async (id: string) =>
  ((await api(server, 'GET', '/v1/clusters', { bearer: server.adminToken })).json as Array<{ id: string; state: string; lastSeen: string | null }>).find(
    (c) => c.id === id,
  );

t.test('health: never seen is Offline', async (t) => {
  const agent = await registerAgent(server, (await createToken(server)).secret);
  t.match(await cluster(agent.clusterId), { state: 'Offline', lastSeen: null });
});

t.test('health: Connected while heartbeats arrive, Stale after 2 silent intervals, Offline later', async (t) => {
  const agent = await registerAgent(server, (await createToken(server)).secret);
  const tunnel = await connectTunnel(server, agent.credential, 'cluster');
  await tunnel.ready;
  const connectedAt = clock.now();
  t.match(await cluster(agent.clusterId), { state: 'Connected', lastSeen: new Date(connectedAt).toISOString() });

  clock.advance(2 * interval);
  t.equal((await cluster(agent.clusterId))?.state, 'Connected', 'exactly 2 intervals is still fresh');
  clock.advance(1);
  t.equal((await cluster(agent.clusterId))?.state, 'Stale', 'session open but silent: Stale, not healthy');

  // A heartbeat brings it back and moves lastSeen to the clock's now.
  tunnel.session.sendMessage('heartbeat', { seq: 1 });
  const beatAt = clock.now();
  await eventually(async () => (await cluster(agent.clusterId))?.state === 'Connected', 'heartbeat seen');
  t.equal((await cluster(agent.clusterId))?.lastSeen, new Date(beatAt).toISOString());

  clock.advance(300_001);
  t.equal((await cluster(agent.clusterId))?.state, 'Offline');
  tunnel.ws.close();
  await tunnel.closed;
});

t.test('health: after the tunnel closes a recently seen cluster is Stale, then Offline', async (t) => {
  const agent = await registerAgent(server, (await createToken(server)).secret);
  const tunnel = await connectTunnel(server, agent.credential, 'cluster');
  await tunnel.ready;
  tunnel.ws.close();
  await tunnel.closed;
  await eventually(async () => (await cluster(agent.clusterId))?.state !== 'Connected', 'session gone');
  t.equal((await cluster(agent.clusterId))?.state, 'Stale');
  clock.advance(300_001);
  t.equal((await cluster(agent.clusterId))?.state, 'Offline');
});

t.test('health: lastSeen survives the flush to the store', async (t) => {
  const agent = await registerAgent(server, (await createToken(server)).secret);
  const tunnel = await connectTunnel(server, agent.credential, 'node');
  await tunnel.ready;
  const seenAt = clock.now();
  await server.flush();
  const stored = (await server.ctx.store.getAgent(agent.agentId))?.lastSeen;
  t.equal(stored, seenAt);
  tunnel.ws.close();
  await tunnel.closed;
});
