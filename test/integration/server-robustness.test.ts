// Table-driven abuse of every endpoint (issue 4): malformed JSON, oversized bodies, wrong content
// types, wrong shapes, wrong methods and bad WebSocket upgrades all get a clean 4xx with a JSON
// error code, and the server keeps serving afterwards.
import t, { type Test } from 'tap';
import tls from 'node:tls';
import { api, createToken, errorCode, registerAgent, removeDir, startTestServer, type Reply } from './server-harness.ts';

const server = await startTestServer();
t.teardown(async () => {
  await server.close();
  removeDir(server.dataDir);
});

const agent = await registerAgent(server, (await createToken(server)).secret);
const cluster = agent.clusterId;

type Auth = 'none' | 'admin' | 'agent';
const bodyEndpoints: Array<{ method: string; path: string; auth: Auth }> = [
  { method: 'POST', path: '/v1/register', auth: 'none' },
  { method: 'POST', path: '/v1/agent/rotate', auth: 'agent' },
  { method: 'POST', path: '/v1/agent/unregister', auth: 'agent' },
  { method: 'POST', path: '/v1/tokens', auth: 'admin' },
  { method: 'PATCH', path: `/v1/clusters/${cluster}`, auth: 'admin' },
  { method: 'POST', path: `/v1/agents/${agent.agentId}/revoke`, auth: 'admin' },
];
const allPaths = [
  '/healthz', '/readyz', '/metrics', '/v1/ca', '/v1/register', '/v1/connect', '/v1/agent/rotate', '/v1/agent/unregister',
  '/v1/tokens', '/v1/tokens/abcdefghij', '/v1/clusters', `/v1/clusters/${cluster}`, '/v1/nodes', '/v1/agents',
  `/v1/agents/${agent.agentId}/revoke`, '/v1/sessions',
];

const bearerFor = (auth: Auth): string | undefined =>
  auth === 'admin' ? server.adminToken : auth === 'agent' ? 'a-nosuchagent.' + 'x'.repeat(40) : undefined;

const big = JSON.stringify({ token: 'x'.repeat(100 * 1024) });
const bodyCases: Array<{ name: string; raw: string; contentType: string; status: number; code: string }> = [
  { name: 'malformed JSON', raw: '{"token": ', contentType: 'application/json', status: 400, code: 'INVALID_JSON' },
  { name: 'oversized body', raw: big, contentType: 'application/json', status: 413, code: 'BODY_TOO_LARGE' },
  { name: 'wrong content type', raw: '{}', contentType: 'text/plain', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'form encoding', raw: 'a=b', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'JSON of the wrong shape', raw: '[1,2,3]', contentType: 'application/json', status: 400, code: 'INVALID_REQUEST' },
];

function clean4xx(t: Test, r: Reply, what: string): void {
  t.ok(r.status >= 400 && r.status < 500, `${what}: 4xx (got ${r.status})`);
  t.type(errorCode(r), 'string', `${what}: JSON error code`);
}

t.test('bodies: every endpoint that takes one refuses bad bodies with a clean 4xx', async (t) => {
  for (const ep of bodyEndpoints) {
    for (const c of bodyCases) {
      const what = `${ep.method} ${ep.path} ${c.name}`;
      const bearer = bearerFor(ep.auth);
      const r = await api(server, ep.method, ep.path, { raw: c.raw, contentType: c.contentType, ...(bearer ? { bearer } : {}) });
      clean4xx(t, r, what);
      // With valid admin auth (or none needed) the body check itself answers.
      if (ep.auth !== 'agent') {
        t.equal(r.status, c.status, `${what}: status`);
        t.equal(errorCode(r), c.code, `${what}: code`);
      }
    }
  }
});

t.test('bodies: a chunked body without Content-Length is cut at the limit', async (t) => {
  const r = await api(server, 'POST', '/v1/register', { raw: big, contentType: 'application/json', headers: { 'transfer-encoding': 'chunked' } });
  t.equal(r.status, 413);
});

t.test('methods: a wrong method on a known path is 405 with Allow', async (t) => {
  for (const [method, path] of [['PUT', '/v1/tokens'], ['DELETE', '/v1/register'], ['POST', '/healthz'], ['PATCH', '/v1/nodes']] as const) {
    const r = await api(server, method, path, { bearer: server.adminToken });
    t.equal(r.status, 405, `${method} ${path}`);
    t.equal(errorCode(r), 'METHOD_NOT_ALLOWED');
    t.type(r.headers.allow, 'string');
  }
  clean4xx(t, await api(server, 'GET', '/v1/nope'), 'unknown path');
  t.equal(errorCode(await api(server, 'GET', '/v1/connect')), 'UPGRADE_REQUIRED');
});

/** Sends raw bytes over TLS and returns the status line's code and the body. */
function rawRequest(text: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.port, ca: server.caPem, servername: 'localhost' }, () => socket.end(text));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(all)?.[1] ?? 0);
      resolve({ status, body: all.split('\r\n\r\n').slice(1).join('\r\n\r\n') });
    });
  });
}

const upgradeHead = (path: string, extra: Record<string, string | undefined> = {}, method = 'GET') => {
  const headers: Record<string, string | undefined> = {
    host: 'localhost',
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-version': '13',
    'sec-websocket-protocol': 'drover.v1',
    'x-drover-role': 'cluster',
    authorization: `Bearer ${agent.credential}`,
    ...extra,
  };
  const lines = Object.entries(headers).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
};

t.test('upgrades: bad WebSocket upgrades get a 4xx with a JSON code, at every path', async (t) => {
  for (const path of allPaths.filter((p) => p !== '/v1/connect')) {
    const r = await rawRequest(upgradeHead(path));
    t.equal(r.status, 404, `upgrade at ${path}`);
    t.match(r.body, /"code":"NOT_FOUND"/);
  }
  const cases: Array<[string, string, number]> = [
    ['no key', upgradeHead('/v1/connect', { 'sec-websocket-key': undefined }), 400],
    ['short key', upgradeHead('/v1/connect', { 'sec-websocket-key': 'abc' }), 400],
    ['version 8', upgradeHead('/v1/connect', { 'sec-websocket-version': '8' }), 400],
    ['POST upgrade', upgradeHead('/v1/connect', {}, 'POST'), 400],
    ['upgrade to h2c', upgradeHead('/v1/connect', { upgrade: 'h2c' }), 400],
    ['no role', upgradeHead('/v1/connect', { 'x-drover-role': undefined }), 400],
    ['no subprotocol', upgradeHead('/v1/connect', { 'sec-websocket-protocol': undefined }), 400],
    ['no credential', upgradeHead('/v1/connect', { authorization: undefined }), 401],
    ['basic auth', upgradeHead('/v1/connect', { authorization: 'Basic Zm9vOmJhcg==' }), 401],
  ];
  for (const [name, text, status] of cases) {
    const r = await rawRequest(text);
    t.equal(r.status, status, name);
    t.match(r.body, /"code":"[A-Z_]+"/, `${name}: JSON code`);
  }
  const garbage = await rawRequest('GARBAGE / HTTP/9.9\r\n\r\n');
  t.equal(garbage.status, 400, 'unparseable request line');
});

t.test('the server still serves after all of this', async (t) => {
  t.equal((await api(server, 'GET', '/healthz')).status, 200);
  t.equal((await api(server, 'GET', '/readyz')).status, 200);
  const metrics = await api(server, 'GET', '/metrics');
  t.match(metrics.text, /drover_server_http_requests_total/);
});
