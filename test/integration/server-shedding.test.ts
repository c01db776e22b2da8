// Load shedding (issue 4): when registrations or tunnel upgrades in flight, or open sessions, hit
// their limits the server answers 503 OVERLOADED with a Retry-After instead of falling over.
import t from 'tap';
import { api, connectTunnel, createToken, errorCode, registerAgent, removeDir, startTestServer, UpgradeRefused } from './server-harness.ts';

t.test('shedding: registrations beyond the in-flight limit get 503 OVERLOADED + Retry-After', async (t) => {
  const server = await startTestServer({ limits: { maxConcurrentRegistrations: 0 } });
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
  });
  const token = await createToken(server);
  const r = await api(server, 'POST', '/v1/register', { body: { token: token.secret, roles: ['node'], hostname: 'x' } });
  t.equal(r.status, 503);
  t.equal(errorCode(r), 'OVERLOADED');
  const retry = Number(r.headers['retry-after']);
  t.ok(retry >= 2 && retry <= 10, `Retry-After ${retry} within the jitter range`);
  const list = (await api(server, 'GET', '/v1/tokens', { bearer: server.adminToken })).json as Array<{ id: string; uses: number }>;
  t.equal(list.find((x) => x.id === token.id)?.uses, 0, 'a shed registration does not spend the token');
  t.match((await api(server, 'GET', '/metrics')).text, /drover_server_shed_total\{kind="register"\} 1/);
});

async function refusal(p: Promise<unknown>): Promise<UpgradeRefused> {
  try {
    await p;
  } catch (err) {
    if (err instanceof UpgradeRefused) return err;
    throw err;
  }
  throw new Error('accepted');
}

t.test('shedding: tunnels beyond max sessions get 503 OVERLOADED + Retry-After; replacing is allowed; room frees on close', async (t) => {
  const server = await startTestServer({ limits: { maxSessions: 1 } });
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
  });
  const agent = await registerAgent(server, (await createToken(server)).secret);
  const first = await connectTunnel(server, agent.credential, 'cluster');
  await first.ready;
  const r = await refusal(connectTunnel(server, agent.credential, 'node'));
  t.equal(r.status, 503);
  t.match(r.body, { error: { code: 'OVERLOADED' } });
  t.ok(Number(r.headers['retry-after']) >= 1);
  const replacement = await connectTunnel(server, agent.credential, 'cluster');
  await replacement.ready;
  t.equal((await first.closed).code, 4500, 'at the limit an agent may still replace its own session');
  replacement.ws.close();
  await replacement.closed;
  const second = await connectTunnel(server, agent.credential, 'node');
  await second.ready;
  t.pass('accepted once a session closed');
  second.ws.close();
  await second.closed;
});

t.test('shedding: upgrades beyond the in-flight limit get 503 OVERLOADED', async (t) => {
  const server = await startTestServer({ limits: { maxConcurrentUpgrades: 0 } });
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
  });
  const agent = await registerAgent(server, (await createToken(server)).secret);
  const r = await refusal(connectTunnel(server, agent.credential, 'cluster'));
  t.equal(r.status, 503);
  t.ok(r.headers['retry-after']);
});
