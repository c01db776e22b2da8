// Load shedding (issue 4): when registrations or tunnel upgrades in flight, or open sessions, hit
// their limits the server answers 503 OVERLOADED with a Retry-After instead of falling over.
import t from 'tap';
import { WebSocket } from 'ws';
import { attachWebSocket, MAX_WS_MESSAGE, offeredSubprotocols } from '../../protocol/index.ts';
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

t.test('shedding: an admitted upgrade holds its slot until its HELLO exchange ends, so a storm is shed, not timed out', async (t) => {
  const server = await startTestServer({ limits: { maxConcurrentUpgrades: 1 } });
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
  });
  const a = await registerAgent(server, (await createToken(server)).secret);
  const b = await registerAgent(server, (await createToken(server)).secret);
  // Agent A's upgrade is accepted (101) but it has not said HELLO yet.
  const ws = new WebSocket(`${server.url.replace(/^https/, 'wss')}/v1/connect`, offeredSubprotocols(), {
    ca: server.caPem, headers: { 'x-drover-role': 'cluster', authorization: `Bearer ${a.credential}` }, maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false,
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      ws.pause();
      resolve();
    });
    ws.once('error', reject);
  });
  const shed = await refusal(connectTunnel(server, b.credential, 'cluster'));
  t.equal(shed.status, 503, 'B is shed while A is between its 101 and its HELLO');
  t.ok(Number(shed.headers['retry-after']) >= 2);
  // A says HELLO: its slot frees and B gets in.
  const session = attachWebSocket(ws, { side: 'client', peer: { role: 'cluster', version: 'test' } });
  await new Promise<void>((resolve) => session.once('ready', () => resolve()));
  const tb = await connectTunnel(server, b.credential, 'cluster');
  await tb.ready;
  t.pass('B admitted once A finished its handshake');
  tb.ws.close();
  ws.close();
});
