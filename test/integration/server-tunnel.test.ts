// The /v1/connect tunnel endpoint and session registry against a real server and real WebSockets
// running the real protocol (issue 4): facts, takeover, revocation, identity binding, rotation.
import t from 'tap';
import {
  api,
  connectTunnel,
  createToken,
  errorCode,
  eventually,
  registerAgent,
  removeDir,
  startTestServer,
  UpgradeRefused,
} from './server-harness.ts';

const server = await startTestServer();
t.teardown(async () => {
  await server.close();
  removeDir(server.dataDir);
});

const admin = (path: string) => api(server, 'GET', path, { bearer: server.adminToken });
const sessionsOf = async (agentId: string) =>
  ((await admin('/v1/sessions')).json as Array<{ agentId: string; role: string; protocol: string }>).filter((s) => s.agentId === agentId);

async function refused(p: Promise<unknown>): Promise<UpgradeRefused> {
  try {
    await p;
  } catch (err) {
    if (err instanceof UpgradeRefused) return err;
    throw err;
  }
  throw new Error('the upgrade was accepted');
}

const newAgent = async (extra: Record<string, unknown> = {}) => registerAgent(server, (await createToken(server)).secret, extra);

t.test('tunnel: an agent connects, sends facts, and the cluster shows Connected with them', async (t) => {
  const agent = await newAgent({ hostname: 'edge-facts' });
  const tunnel = await connectTunnel(server, agent.credential, 'cluster');
  await tunnel.ready;
  t.equal(tunnel.ws.protocol, 'drover.v1');
  t.ok(tunnel.session.sendMessage('facts', { hostname: 'edge-facts', os: 'linux', arch: 'amd64', agentVersion: '0.1.0', kubernetesVersion: 'v1.31.2', nodeCount: 3 }));
  await eventually(async () => {
    const list = (await admin('/v1/clusters')).json as Array<{ id: string; kubernetesVersion: string | null }>;
    return list.find((c) => c.id === agent.clusterId)?.kubernetesVersion === 'v1.31.2';
  }, 'facts recorded');
  const cluster = (await admin(`/v1/clusters/${agent.clusterId}`)).json as Record<string, unknown>;
  t.match(cluster, { state: 'Connected', kubernetesVersion: 'v1.31.2' });
  t.match((await sessionsOf(agent.agentId))[0], { role: 'cluster', protocol: 'drover.v1', remoteAddress: '127.0.0.1' });
  tunnel.ws.close();
  await tunnel.closed;
  await eventually(async () => (await sessionsOf(agent.agentId)).length === 0, 'session removed after close');
});

t.test('tunnel: each role runs its own session under one identity', async (t) => {
  const agent = await newAgent();
  const tunnels = await Promise.all(['cluster', 'node', 'fleet'].map((r) => connectTunnel(server, agent.credential, r)));
  await Promise.all(tunnels.map((x) => x.ready));
  t.same((await sessionsOf(agent.agentId)).map((s) => s.role).sort(), ['cluster', 'fleet', 'node']);
  for (const x of tunnels) x.ws.close();
  await Promise.all(tunnels.map((x) => x.closed));
});

t.test('tunnel: the newest connection for an agent and role wins; the old one is closed cleanly', async (t) => {
  const agent = await newAgent();
  const first = await connectTunnel(server, agent.credential, 'cluster');
  await first.ready;
  const second = await connectTunnel(server, agent.credential, 'cluster');
  await second.ready;
  const closed = await first.closed;
  t.equal(closed.code, 4500);
  t.match(closed.reason, /superseded/);
  const sessions = await sessionsOf(agent.agentId);
  t.equal(sessions.length, 1, 'exactly one session');
  second.ws.close();
  await second.closed;
});

t.test('tunnel: killing the TCP connection without a close frame leaves exactly one session after reconnect', async (t) => {
  const agent = await newAgent();
  const first = await connectTunnel(server, agent.credential, 'node');
  await first.ready;
  // Reconnect first (the server may still hold the old session), then kill the old socket.
  const second = await connectTunnel(server, agent.credential, 'node');
  await second.ready;
  const raw = (first.ws as unknown as { _socket?: { destroy(): void } })._socket;
  raw?.destroy();
  await eventually(async () => (await sessionsOf(agent.agentId)).length === 1, 'one session');
  t.equal((await sessionsOf(agent.agentId)).length, 1);
  second.ws.close();
  await second.closed;
});

t.test('tunnel: revoking a credential disconnects the agent and refuses reconnection', async (t) => {
  const agent = await newAgent();
  const tunnel = await connectTunnel(server, agent.credential, 'cluster');
  await tunnel.ready;
  const r = await api(server, 'POST', `/v1/agents/${agent.agentId}/revoke`, { bearer: server.adminToken });
  t.equal(r.status, 204);
  const closed = await tunnel.closed;
  t.equal(closed.code, 4501);
  t.match(closed.reason, /revoked/);
  const again = await refused(connectTunnel(server, agent.credential, 'cluster'));
  t.equal(again.status, 401);
  t.match(again.body, { error: { code: 'CREDENTIAL_REVOKED' } });
  t.equal((await sessionsOf(agent.agentId)).length, 0);
  t.equal(errorCode(await api(server, 'POST', '/v1/agents/a-nosuchagent/revoke', { bearer: server.adminToken })), 'AGENT_NOT_FOUND');
});

t.test("tunnel: a second agent cannot open a session as the first with its own credential", async (t) => {
  const first = await newAgent();
  const second = await newAgent();
  const secondSecret = second.credential.slice(second.agentId.length + 1);
  const forged = `${first.agentId}.${secondSecret}`;
  const r = await refused(connectTunnel(server, forged, 'cluster'));
  t.equal(r.status, 401);
  t.match(r.body, { error: { code: 'CREDENTIAL_INVALID' } });
  // With its own credential it gets a session, but only under its own identity.
  const own = await connectTunnel(server, second.credential, 'cluster');
  await own.ready;
  t.equal((await sessionsOf(first.agentId)).length, 0);
  t.equal((await sessionsOf(second.agentId)).length, 1);
  own.ws.close();
  await own.closed;
});

t.test('tunnel: refusals before the upgrade carry a status and a code', async (t) => {
  const agent = await newAgent({ roles: ['node'] });
  const cases: Array<[string, Promise<unknown>, number, string]> = [
    ['no credential', connectTunnel(server, undefined, 'node'), 401, 'CREDENTIAL_MISSING'],
    ['garbage credential', connectTunnel(server, 'nonsense', 'node'), 401, 'CREDENTIAL_INVALID'],
    ['bad role', connectTunnel(server, agent.credential, 'kubelet'), 400, 'ROLE_INVALID'],
    ['role not registered', connectTunnel(server, agent.credential, 'fleet'), 403, 'ROLE_NOT_GRANTED'],
    ['no common version', connectTunnel(server, agent.credential, 'node', { protocols: ['drover.v99'] }), 400, 'UNSUPPORTED_VERSION'],
  ];
  for (const [name, p, status, code] of cases) {
    const r = await refused(p);
    t.equal(r.status, status, name);
    t.match(r.body, { error: { code } }, name);
  }
  const v = await refused(connectTunnel(server, agent.credential, 'node', { protocols: ['drover.v99'] }));
  t.match(v.headers['x-drover-supported-protocols'], /drover\.v1/, 'the refusal lists the supported versions');
});

t.test('credentials: rotate issues a new one; the old one is accepted once, for rotation only', async (t) => {
  const agent = await newAgent();
  const rot = await api(server, 'POST', '/v1/agent/rotate', { body: {}, bearer: agent.credential });
  t.equal(rot.status, 200);
  const fresh = (rot.json as { credential: string; credentialExpiresAt: string }).credential;
  t.not(fresh, agent.credential);
  const old = await refused(connectTunnel(server, agent.credential, 'cluster'));
  t.match(old.body, { error: { code: 'CREDENTIAL_SUPERSEDED' } }, 'the old credential cannot open a tunnel');
  // The agent crashed before saving `fresh`: the old credential recovers once.
  const recovery = await api(server, 'POST', '/v1/agent/rotate', { bearer: agent.credential });
  t.equal(recovery.status, 200);
  const recovered = (recovery.json as { credential: string }).credential;
  const twice = await api(server, 'POST', '/v1/agent/rotate', { bearer: agent.credential });
  t.equal(errorCode(twice), 'CREDENTIAL_INVALID', 'only once');
  t.equal(errorCode(await api(server, 'POST', '/v1/agent/rotate', { bearer: fresh })), 'CREDENTIAL_INVALID', 'the lost credential is gone');
  const tunnel = await connectTunnel(server, recovered, 'cluster');
  await tunnel.ready;
  tunnel.ws.close();
  await tunnel.closed;
});

t.test('unregister: 204, sessions closed, credential refused afterwards', async (t) => {
  const agent = await newAgent();
  const tunnel = await connectTunnel(server, agent.credential, 'fleet');
  await tunnel.ready;
  t.equal((await api(server, 'POST', '/v1/agent/unregister', { body: {}, bearer: agent.credential })).status, 204);
  await tunnel.closed;
  const r = await refused(connectTunnel(server, agent.credential, 'fleet'));
  t.match(r.body, { error: { code: 'CREDENTIAL_REVOKED' } });
  const nodes = (await admin('/v1/nodes')).json as Array<{ id: string; removedAt: string | null }>;
  t.ok(nodes.find((n) => n.id === agent.nodeId)?.removedAt, 'node marked removed');
});
