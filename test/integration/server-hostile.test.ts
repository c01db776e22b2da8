// Issue 14: the server tried as a hostile client would, against a real in-process server over
// real TLS. Each test here failed on the code before its fix (see the numbered findings).
import t from 'tap';
import tls from 'node:tls';
import { encodeFrame, MESSAGE_KINDS } from '../../protocol/index.ts';
import { api, connectTunnel, createToken, errorCode, registerAgent, serverForTest, eventually, UpgradeRefused } from './server-harness.ts';

type TestServer = Awaited<ReturnType<typeof serverForTest>>;

/** A TLS connection to the server that writes `text` and keeps the connection open. */
function openRaw(server: TestServer, text: string): Promise<{ socket: tls.TLSSocket; reply: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.port, ca: server.caPem, servername: 'localhost' }, () => {
      socket.write(text, () => resolve({ socket, reply }));
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    const reply = new Promise<string>((r) => socket.on('close', () => r(Buffer.concat(chunks).toString('utf8'))));
  });
}

/** Resolves with `p`'s value, or with 'bound passed' after `ms` (a generous bound, not a timing assertion). */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'bound passed'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('bound passed'), ms);
    void p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

/** A registered agent's cluster tunnel, open and ready; terminated when the test ends. */
async function clusterTunnel(t: { teardown(fn: () => unknown): void }, server: TestServer) {
  const agent = await registerAgent(server, (await createToken(server)).secret);
  const tunnel = await connectTunnel(server, agent.credential, 'cluster');
  t.teardown(() => tunnel.ws.terminate());
  await tunnel.ready;
  return { agent, tunnel };
}

const statusOf = (raw: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);

t.test('1. registrations sending their body slowly do not take the slots of genuine ones', async (t) => {
  const server = await serverForTest(t, { limits: { maxConcurrentRegistrations: 4 } });
  const token = await createToken(server, { uses: 2 });
  const head = 'POST /v1/register HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n{"token":';
  // Twice the slots, each with its headers and the start of a body that never finishes.
  const slow = await Promise.all(Array.from({ length: 8 }, () => openRaw(server, head)));
  t.teardown(() => slow.forEach((s) => s.socket.destroy()));
  t.equal((await api(server, 'GET', '/healthz')).status, 200, 'the server took the slow requests in');
  const genuine = await api(server, 'POST', '/v1/register', { body: { token: token.secret, roles: ['cluster'], hostname: 'edge-genuine' } });
  t.equal(genuine.status, 201, `a genuine registration succeeds (got ${genuine.status} ${genuine.text})`);
  t.equal(server.ctx.limiters.registrations.inFlight, 0, 'no slot is held while bodies are read');
});

t.test('4. header and request timeouts are enforced (408 REQUEST_TIMEOUT, the connection closed)', async (t) => {
  // Small timeouts so the test is short; production values are LIMITS.headersTimeoutMs (15 s) and
  // requestTimeoutMs (30 s), checked every connectionsCheckingIntervalMs (1 s).
  const server = await serverForTest(t, { limits: { headersTimeoutMs: 600, requestTimeoutMs: 1200, connectionsCheckingIntervalMs: 100 } });
  // Headers never finished.
  const partial = await openRaw(server, 'GET /v1/clusters HTTP/1.1\r\nhost: localhost\r\nx-slow: ');
  const headersReply = await within(partial.reply, 10_000);
  t.not(headersReply, 'bound passed', 'the connection is closed well within 10 s (Node checked every 30 s before)');
  if (headersReply !== 'bound passed') {
    t.equal(statusOf(headersReply), 408, 'status 408');
    t.match(headersReply, /"code":"REQUEST_TIMEOUT"/);
  }
  // Headers complete, body never finished: the handler's own response carries the 408.
  const body = await openRaw(server, 'POST /v1/register HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"tok');
  const bodyReply = await within(body.reply, 10_000);
  t.not(bodyReply, 'bound passed', 'a slow body is cut within 10 s');
  if (bodyReply !== 'bound passed') {
    t.equal(statusOf(bodyReply), 408);
    t.match(bodyReply, /"code":"REQUEST_TIMEOUT"/);
  }
  await server.ctx.audit.flush();
  const rows = await server.ctx.store.listAudit({ limit: 1000 });
  t.ok(rows.some((r) => r.path === '/v1/register' && r.status === 408), 'the timed-out registration is audited as 408');
  t.equal((await api(server, 'GET', '/healthz')).status, 200, 'still serving');
});

t.test('2. deeply nested JSON is refused with 400 before any recursive work', async (t) => {
  const server = await serverForTest(t);
  const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  for (const n of [40, 4311, 10_000]) {
    const raw = `{"token":"abcdefghij.${'x'.repeat(40)}","roles":["cluster"],"hostname":"h","facts":${deep(n)}}`;
    const r = await api(server, 'POST', '/v1/register', { raw, contentType: 'application/json' });
    t.equal(r.status, 400, `${n} levels: 400 (got ${r.status})`);
    t.equal(errorCode(r), 'INVALID_REQUEST');
    t.match((r.json as { error: { message: string } }).error.message, /nested deeper than 32 levels/);
  }
  // Within the body limit but deeper than facts may nest.
  const raw = `{"token":"abcdefghij.${'x'.repeat(40)}","roles":["cluster"],"hostname":"h","facts":{"k":${deep(12)}}}`;
  const r = await api(server, 'POST', '/v1/register', { raw, contentType: 'application/json' });
  t.equal(r.status, 400);
  t.match(r.text, /facts nested deeper than 8 levels/);
  // Same for an authenticated endpoint's body (an admin one).
  const admin = await api(server, 'POST', '/v1/tokens', { raw: deep(5000), contentType: 'application/json', bearer: server.adminToken });
  t.equal(admin.status, 400);
  t.equal(errorCode(admin), 'INVALID_REQUEST');
});

t.test('5. audit: refused upgrades, aborted requests and agent calls carry the real outcome and identity', async (t) => {
  const server = await serverForTest(t);
  const agent = await registerAgent(server, (await createToken(server)).secret);
  // Refused upgrades: no credential; a valid credential with a role that does not exist.
  const refusal = (p: Promise<unknown>) => p.then(() => 0, (err: unknown) => (err instanceof UpgradeRefused ? err.status : -1));
  t.equal(await refusal(connectTunnel(server, undefined, 'cluster')), 401);
  t.equal(await refusal(connectTunnel(server, agent.credential, 'nonsense')), 400);
  // An accepted one.
  const tunnel = await connectTunnel(server, agent.credential, 'fleet');
  await tunnel.ready;
  tunnel.ws.close();
  await tunnel.closed;
  // An agent call.
  const rotated = await api(server, 'POST', '/v1/agent/rotate', { bearer: agent.credential });
  t.equal(rotated.status, 200);
  // An aborted request: the body never finishes and the client goes away.
  const aborted = await openRaw(server, 'POST /v1/tokens HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\nauthorization: Bearer ' + server.adminToken + '\r\n\r\n{"ttl');
  await api(server, 'GET', '/healthz');
  aborted.socket.destroy();
  await aborted.reply;
  let rows: Awaited<ReturnType<typeof server.ctx.store.listAudit>> = [];
  for (let i = 0; i < 100; i++) {
    await server.ctx.audit.flush();
    rows = await server.ctx.store.listAudit({ limit: 1000 });
    if (rows.some((r) => r.path === '/v1/tokens' && r.verb === 'post' && r.status !== 201)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const connects = rows.filter((r) => r.path === '/v1/connect');
  t.ok(connects.some((r) => r.status === 401 && r.user === 'anonymous'), 'the upgrade without a credential is audited as 401 anonymous');
  t.ok(connects.some((r) => r.status === 400 && r.user === 'anonymous'), 'the upgrade with a bad role is audited as 400');
  t.ok(connects.some((r) => r.status === 101 && r.user === `agent:${agent.agentId}` && r.idp === 'agent-credential'), 'the accepted upgrade is audited as the agent');
  const rotate = rows.find((r) => r.path === '/v1/agent/rotate');
  t.equal(rotate?.user, `agent:${agent.agentId}`, 'the agent call names the agent');
  t.equal(rotate?.idp, 'agent-credential');
  const register = rows.find((r) => r.path === '/v1/register' && r.status === 201);
  t.equal(register?.user, `agent:${agent.agentId}`, 'a registration names the agent it created');
  const tokenPost = rows.find((r) => r.path === '/v1/tokens' && r.verb === 'post' && r.status !== 201);
  t.ok(tokenPost, 'the aborted request is audited');
  t.equal(tokenPost?.status, 499, 'an aborted request is 499, not 200');
  t.equal(tokenPost?.user, 'admin', 'with the caller who made it');
});

t.test('3. facts over the tunnel are bounded like facts at registration (16 KiB)', async (t) => {
  const server = await serverForTest(t);
  const { agent, tunnel } = await clusterTunnel(t, server);
  const errors: string[] = [];
  tunnel.session.on('message', (m) => {
    if (m.kind === 'error') errors.push(m.body.code);
  });
  const base = { hostname: 'edge', os: 'linux', arch: 'amd64', agentVersion: '0.1.0' };
  // 1 MiB of extras (sent raw: our own session refuses to send invalid messages).
  const extras = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`k${i}`, 'x'.repeat(4000)]));
  t.ok(tunnel.session.sendControl(MESSAGE_KINDS.facts.wire, { ...base, kubernetesVersion: 'v9.9.9-big', extras }));
  await eventually(() => errors.includes('MESSAGE_INVALID'), 'the server refuses the oversized facts');
  t.ok(tunnel.session.sendMessage('facts', { ...base, kubernetesVersion: 'v1.0.0-small', extras: { kernel: '6.1' } }), 'small facts still go');
  await eventually(async () => {
    const c = (await api(server, 'GET', `/v1/clusters/${agent.clusterId}`, { bearer: server.adminToken })).json as { kubernetesVersion?: string };
    return c.kubernetesVersion === 'v1.0.0-small';
  }, 'small facts recorded');
  t.equal(tunnel.session.state, 'open', 'the session stays up');
});

t.test('8. a tunnel peer that floods OPENs and never reads is closed with RATE_LIMITED (4004), its answers bounded', async (t) => {
  const server = await serverForTest(t);
  const { agent, tunnel } = await clusterTunnel(t, server);
  // Stop reading, then open far more streams than any agent would (the server serves none).
  tunnel.ws.pause();
  for (let i = 0, id = 1; i < 5000; i++, id += 2) tunnel.ws.send(encodeFrame({ type: 'OPEN', streamId: id, target: 'http:x', metadata: {} }));
  await eventually(() => server.ctx.sessions.size === 0, 'the server ends the session', 400);
  tunnel.ws.resume();
  const closed = await tunnel.closed;
  t.equal(closed.code, 4004, `closed with RATE_LIMITED (got ${closed.code} ${closed.reason})`);
  t.match(closed.reason, /OPEN\/PING\/CONTROL frames/);
  // The agent may come back; a well-behaved session is unaffected.
  const again = await connectTunnel(server, agent.credential, 'cluster');
  t.teardown(() => again.ws.terminate());
  await again.ready;
  t.ok(again.session.sendMessage('heartbeat', { seq: 1 }));
  t.equal(server.ctx.sessions.size, 1);
});
