// Connection history against a real server and real tunnels: a connect, a newer connection of the
// same agent superseding it, and the agent closing its tunnel are each stored with time and reason.
import t from 'tap';
import { createToken, connectTunnel, eventually, registerAgent, startTestServer } from './server-harness.ts';

t.test('connection history: connects and disconnects stored per cluster with reasons', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const token = await createToken(server);
  const agent = await registerAgent(server, token.secret);
  const store = server.ctx.store;
  const history = async () => {
    await server.flush();
    return (await store.connectionEvents?.(agent.clusterId, 50)) ?? [];
  };

  const first = await connectTunnel(server, agent.credential, 'cluster');
  await first.ready;
  const second = await connectTunnel(server, agent.credential, 'cluster');
  await second.ready;
  await first.closed;
  second.session.close('GOING_AWAY', 'agent stopping');
  await second.closed;
  await eventually(async () => (await history()).length >= 4, 'four events stored');
  const events = (await history()).reverse();
  t.same(events.map((e) => e.kind), ['connect', 'connect', 'disconnect', 'disconnect']);
  t.match(events[0], { role: 'cluster', agentId: agent.agentId, reason: /^cluster agent connected \(drover\.v\d+\)$/ });
  t.match(events[1]?.reason, new RegExp(`replaced session ${events[0]?.sessionId}`));
  t.match(events[2], { sessionId: events[0]?.sessionId, reason: 'superseded by a newer connection of the same agent' });
  t.match(events[3], { sessionId: events[1]?.sessionId, reason: /^agent closed the tunnel: GOING_AWAY/ });
  t.ok(events.every((e, i) => i === 0 || e.at >= (events[i - 1]?.at ?? 0)), 'in time order');
  t.ok(events.every((e) => typeof e.remote === 'string' && e.remote.length > 0), 'remote address kept');
});
