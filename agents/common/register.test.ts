// registerAgent against an in-process HTTPS server standing in for server-lite's two endpoints.
// It records every request, so "nothing was sent" is an observation, not an assumption.
import t from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { registerAgent, type RegisterDeps } from './register.ts';
import { parseRegisterConfig } from './config.ts';
import { AgentStore } from './store.ts';
import { silentLogger } from './logger.ts';
import { selfSignedCert } from './test-fixtures.ts';

async function fakeServer(dir: string, registerReplies: { status: number; headers?: Record<string, string>; body: unknown }[]) {
  const { key, cert } = selfSignedCert(dir);
  const seen: { path: string; body: string }[] = [];
  const srv = https.createServer({ key, cert }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', body });
      // The agent names the token's CA hash (issue 18: a server that rotated its CA answers with that CA).
      if ((req.url ?? '').split('?')[0] === '/v1/ca') {
        res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(cert);
        return;
      }
      const reply = registerReplies.shift() ?? { status: 500, body: {} };
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(JSON.stringify(reply.body));
    });
  });
  srv.listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const hash = crypto.createHash('sha256').update(new crypto.X509Certificate(cert).raw).digest('hex');
  return { url: `https://127.0.0.1:${(srv.address() as AddressInfo).port}`, hash, seen, close: () => srv.close() };
}

const secret = 'S'.repeat(40);
const ok = { status: 201, body: { agentId: 'a-1', clusterId: 'c-1', nodeId: 'n-1', credential: 'a-1.credentialsecret', credentialExpiresAt: '2027-01-01T00:00:00.000Z' } };

function deps(sleeps: number[]): RegisterDeps {
  return {
    env: {}, logger: silentLogger(), now: () => new Date('2026-11-24T08:00:00Z'), random: () => 0,
    sleep: async (ms) => void sleeps.push(ms),
    facts: { hostname: 'edge-7', os: 'linux', arch: 'amd64', agentVersion: '0.1.0' },
  };
}

t.test('register: a CA that does not match the token stops before the secret is sent (exit 5)', async (t) => {
  const dir = t.testdir();
  const server = await fakeServer(dir, [ok]);
  t.teardown(server.close);
  const cfg = parseRegisterConfig({ server: server.url, token: `D10${'1'.repeat(64)}::abcdefghij.${secret}`, dataDir: path.join(dir, 'agent') }, '0.1.0');
  await t.rejects(registerAgent(cfg, deps([])), { code: 'CA_MISMATCH', exitCode: 5 });
  t.same(server.seen.map((r) => r.path.split('?')[0]), ['/v1/ca'], 'only the CA was fetched');
  t.match(server.seen[0]?.path, /^\/v1\/ca\?sha256=[0-9a-f]{64}$/, 'naming the CA hash of the token');
  t.notOk(server.seen.some((r) => r.body.includes(secret)), 'the secret never left');
  t.notOk(fs.existsSync(path.join(dir, 'agent')), 'nothing stored');
});

t.test('register: sends token id and secret only, stores identity and pinned CA', async (t) => {
  const dir = t.testdir();
  const server = await fakeServer(dir, [ok]);
  t.teardown(server.close);
  const cfg = parseRegisterConfig({ server: server.url, token: `D10${server.hash}::abcdefghij.${secret}`, dataDir: path.join(dir, 'agent'), labels: 'site=x', name: 'edge' }, '0.1.0');
  const id = await registerAgent(cfg, deps([]));
  const sent = JSON.parse(server.seen[1]!.body) as Record<string, unknown>;
  t.match(sent, { token: `abcdefghij.${secret}`, name: 'edge', labels: { site: 'x' }, roles: ['cluster', 'node', 'fleet'], hostname: 'edge-7', facts: { arch: 'amd64' } });
  t.notMatch(String(sent.token), server.hash, 'the CA hash part stays on the device');
  const store = AgentStore.open(path.join(dir, 'agent'), { create: false });
  t.teardown(() => store.close());
  t.match(store.getIdentity(), { agentId: 'a-1', clusterId: 'c-1', credential: 'a-1.credentialsecret', caSha256: server.hash, serverUrl: server.url });
  t.equal(id.agentId, 'a-1');
});

t.test('register: 503 OVERLOADED is retried after Retry-After; token refusals are not', async (t) => {
  const dir = t.testdir();
  const busy = { status: 503, headers: { 'retry-after': '3' }, body: { error: { code: 'OVERLOADED', message: 'busy' } } };
  const server = await fakeServer(dir, [busy, busy, ok, { status: 401, body: { error: { code: 'TOKEN_USED_UP', message: 'no uses left' } } }]);
  t.teardown(server.close);
  const sleeps: number[] = [];
  const token = `D10${server.hash}::abcdefghij.${secret}`;
  await registerAgent(parseRegisterConfig({ server: server.url, token, dataDir: path.join(dir, 'a') }, '0'), deps(sleeps));
  t.same(sleeps, [3000, 3000], 'waited the server-given 3 s twice, then succeeded');
  await t.rejects(registerAgent(parseRegisterConfig({ server: server.url, token, dataDir: path.join(dir, 'b') }, '0'), deps(sleeps)), { code: 'TOKEN_USED_UP', exitCode: 4, message: 'no uses left' });
  t.equal(sleeps.length, 2, 'no retry on a token refusal');
});
