// Issue 14: fuzzing the real server (in-process, real TLS) through its two front doors — the REST
// API and the tunnel — with fast-check. Fixed seed and a short run here; a longer run:
//   DROVER_FUZZ_SEED=$RANDOM DROVER_FUZZ_RUNS=5000 npx tap run --timeout 0 test/integration/server-fuzz.test.ts
// Properties: no request is answered 5xx (but the documented 503s), every 4xx carries the
// `{"error":{"code","message"}}` body, a tunnel fed arbitrary frames is either kept or closed with
// a protocol-violation or rate-limit code, and the server answers /healthz afterwards.
import t from 'tap';
import fc from 'fast-check';
import { encodeFrame, PROTOCOL_VIOLATION_CLOSE_CODES, CLOSE_CODES, type Frame } from '../../protocol/index.ts';
import { api, connectTunnel, createToken, errorCode, registerAgent, removeDir, startTestServer } from './server-harness.ts';

const seed = Number(process.env.DROVER_FUZZ_SEED ?? 1414);
const runs = Number(process.env.DROVER_FUZZ_RUNS ?? 150);

const server = await startTestServer();
t.teardown(async () => {
  await server.close();
  removeDir(server.dataDir);
});
// One agent for each part: the REST fuzz may rotate, revoke or unregister its own.
const agent = await registerAgent(server, (await createToken(server)).secret);
const tunnelAgent = await registerAgent(server, (await createToken(server)).secret);

const segment = fc.oneof(
  fc.constantFrom('abc', agent.clusterId, agent.agentId, 'admin', '%', '%zz', '%E0%A4%A', '..', '%2F', 'x'.repeat(300), ''),
  fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
);
const pathArb = fc.oneof(
  fc.constantFrom(
    '/v1/tokens', '/v1/clusters', '/v1/nodes', '/v1/agents', '/v1/sessions', '/v1/register', '/v1/agent/rotate', '/v1/agent/unregister',
    '/v1/audit', '/v1/audit/verify', '/v1/login', '/v1/whoami', '/v1/users', '/v1/rolebindings', '/v1/fleet/bundles', '/v1/fleet/clusters',
    '/v1/fleet/gitrepos', '/v1/fleet/clustergroups', '/v1/fleet/webhook', '/v1/ca', '/healthz', '/metrics',
  ),
  fc.tuple(fc.constantFrom('/v1/tokens/', '/v1/clusters/', '/v1/users/', '/v1/fleet/bundles/', '/v1/fleet/gitrepos/', '/v1/fleet/clustergroups/', '/v1/agents/'), segment)
    .map(([p, s]) => p + s),
  fc.tuple(fc.constantFrom('/v1/users/', '/v1/rolebindings/', '/v1/agents/', '/v1/fleet/bundles/'), segment, fc.constantFrom('/tokens', '/revoke', '/events', '/x/y', ''))
    .map(([p, s, tail]) => p + s + tail),
  fc.tuple(fc.constantFrom('/v1/audit?', '/v1/fleet/bundles?', '/v1/clusters?'), fc.constantFrom('limit=-1', 'limit=abc', 'afterSeq=1e400', 'limit=99999999', 'x=%'))
    .map(([p, q]) => p + q),
);
const bodyArb = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.record({ token: fc.string(), roles: fc.array(fc.string(), { maxLength: 4 }), hostname: fc.string(), labels: fc.dictionary(fc.string(), fc.string()), ttl: fc.string(), uses: fc.integer() }, { requiredKeys: [] })
    .map((v) => JSON.stringify(v)),
  fc.record({ name: fc.string(), password: fc.string(), globalRole: fc.string(), user: fc.string(), cluster: fc.string(), role: fc.string(), selector: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] })
    .map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
);
const requestArb = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD'),
  path: pathArb,
  body: bodyArb,
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/merge-patch+json', 'application/x-tar'),
  auth: fc.constantFrom('none', 'admin', 'agent', 'garbage'),
});

// Documented 503s: OVERLOADED (shedding), NOT_READY, CLUSTER_UNAVAILABLE.
const allowed5xx = new Set(['OVERLOADED', 'NOT_READY', 'CLUSTER_UNAVAILABLE']);

t.test(`REST API fuzz (seed ${seed}, ${runs} runs): no 5xx, every error a JSON error body`, async (t) => {
  await fc.assert(fc.asyncProperty(requestArb, async (r) => {
    const bearer = r.auth === 'admin' ? server.adminToken : r.auth === 'agent' ? agent.credential : r.auth === 'garbage' ? 'x'.repeat(50) : undefined;
    const reply = await api(server, r.method, r.path, { ...(r.body === undefined ? {} : { raw: r.body, contentType: r.contentType }), ...(bearer ? { bearer } : {}) });
    const code = errorCode(reply);
    if (reply.status >= 500 && !(code !== undefined && allowed5xx.has(code))) throw new Error(`${r.method} ${r.path} → ${reply.status} ${reply.text.slice(0, 200)}`);
    if (reply.status >= 400 && r.method !== 'HEAD' && typeof code !== 'string') throw new Error(`${r.method} ${r.path} → ${reply.status} without a JSON error body: ${reply.text.slice(0, 200)}`);
  }), { seed, numRuns: runs });
  t.equal((await api(server, 'GET', '/healthz')).status, 200, 'still healthy');
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const frameArb: fc.Arbitrary<Frame | Buffer> = fc.oneof(
  fc.record({ streamId: u32, target: fc.string({ minLength: 1, maxLength: 40 }), metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 16 }), { maxKeys: 4 }) })
    .map((f) => ({ type: 'OPEN' as const, ...f, metadata: { ...f.metadata } })),
  fc.record({ streamId: u32, fin: fc.boolean(), payload: fc.uint8Array({ minLength: 1, maxLength: 200 }).map((a) => Buffer.from(a)) }).map((f) => ({ type: 'DATA' as const, ...f })),
  fc.record({ streamId: u32, increment: fc.integer({ min: 1, max: 0x7fffffff }) }).map((f) => ({ type: 'WINDOW' as const, ...f })),
  fc.record({ streamId: u32, code: fc.integer({ min: 0, max: 65535 }), retryable: fc.boolean(), message: fc.string({ maxLength: 60 }) }).map((f) => ({ type: 'RESET' as const, ...f })),
  fc.uint8Array({ minLength: 8, maxLength: 8 }).map((p) => ({ type: 'PING' as const, payload: Buffer.from(p) })),
  fc.record({ kind: fc.integer({ min: 0, max: 8 }), required: fc.boolean(), body: fc.jsonValue({ maxDepth: 3 }) }).map((f) => ({ type: 'CONTROL' as const, ...f })),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
);

const acceptable = new Set<number>([...PROTOCOL_VIOLATION_CLOSE_CODES, CLOSE_CODES.RATE_LIMITED, CLOSE_CODES.NORMAL]);

t.test(`tunnel fuzz (seed ${seed}, ${Math.ceil(runs / 5)} sessions): arbitrary frames never take the server down`, async (t) => {
  await fc.assert(fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 30 }), async (frames) => {
    const tunnel = await connectTunnel(server, tunnelAgent.credential, 'cluster');
    await tunnel.ready;
    for (const f of frames) {
      if (tunnel.ws.readyState !== tunnel.ws.OPEN) break;
      tunnel.ws.send(Buffer.isBuffer(f) ? f : encodeFrame(f));
    }
    // A round trip through the session proves the server processed everything sent before it.
    const alive = await Promise.race([tunnel.session.ping().then(() => true, () => false), tunnel.closed.then(() => false)]);
    if (!alive) {
      const closed = await tunnel.closed;
      if (!acceptable.has(closed.code)) throw new Error(`closed with ${closed.code} ${closed.reason}`);
    }
    tunnel.ws.terminate();
    await tunnel.closed;
  }), { seed, numRuns: Math.ceil(runs / 5) });
  t.equal((await api(server, 'GET', '/healthz')).status, 200, 'still healthy');
});
