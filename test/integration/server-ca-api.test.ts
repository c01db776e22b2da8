// Issue 18: the server side of `drover server rotate-ca` and `set-url` through the API, on a
// deterministic clock: one rotation at a time, the switch when the overlap ends (ManualClock), join
// tokens and `GET /v1/ca` before and after it, `?sha256=` for tokens made before, and a new URL's
// host served in the certificate at once. Bad input is refused with a message.
import t from 'tap';
import tls from 'node:tls';
import { X509Certificate, createHash } from 'node:crypto';
import { ManualClock } from '../../protocol/index.ts';
import { api, serverForTest } from './server-harness.ts';

const sha = (pem: string): string => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

t.test('server CA API: rotate, one at a time, switch after the overlap; join tokens and /v1/ca follow', async (t) => {
  const timers = new ManualClock();
  const server = await serverForTest(t, { timers });
  const admin = { bearer: server.adminToken };
  const oldHash = server.caHash;
  t.equal((await api(server, 'POST', '/v1/server/ca/rotate', { body: { overlapSeconds: -1 }, ...admin })).status, 400, 'a negative overlap');
  t.equal((await api(server, 'POST', '/v1/server/ca/rotate', { body: {} })).status, 401, 'admins only');
  const r = await api(server, 'POST', '/v1/server/ca/rotate', { body: { overlapSeconds: 60 }, ...admin });
  t.equal(r.status, 200, 'rotation started');
  const nextHash = (r.json as { rotation: { nextCaHash: string } }).rotation.nextCaHash;
  const again = await api(server, 'POST', '/v1/server/ca/rotate', { body: {}, ...admin });
  t.equal(again.status, 400);
  t.match(again.text, /already in progress/, 'one rotation at a time, with a message');
  t.match(again.text, nextHash);
  const during = await api(server, 'POST', '/v1/tokens', { body: {}, ...admin });
  t.ok((during.json as { token: string }).token.startsWith(`D10${oldHash}::`), 'during the overlap tokens still name the current CA');

  timers.advance(60_000);
  const after = (await api(server, 'GET', '/v1/server/ca', admin)).json as { caHash: string; rotation: unknown };
  t.same(after, { caHash: nextHash, rotation: null, agentsUpdated: 0 }, 'switched when the overlap ended');
  const token = (await api(server, 'POST', '/v1/tokens', { body: {}, ...admin })).json as { token: string };
  t.ok(token.token.startsWith(`D10${nextHash}::`), 'new tokens name the new CA (format unchanged)');
  t.equal(sha((await api(server, 'GET', '/v1/ca')).text), nextHash, '/v1/ca: the new CA');
  t.equal(sha((await api(server, 'GET', `/v1/ca?sha256=${oldHash}`)).text), oldHash, '/v1/ca?sha256=OLD: the old CA, for tokens made before');
  t.equal(sha((await api(server, 'GET', `/v1/ca?sha256=${'0'.repeat(64)}`)).text), nextHash, 'an unknown hash gets the current CA');
});

t.test('server URL API: bad URLs refused; the new host is in the served certificate at once', async (t) => {
  const server = await serverForTest(t, { timers: new ManualClock() });
  const admin = { bearer: server.adminToken };
  for (const url of ['http://x.example', 'https://x.example/path', 'not a url']) {
    const r = await api(server, 'POST', '/v1/server/url', { body: { url }, ...admin });
    t.equal(r.status, 400, url);
    t.match(r.text, /https:\/\/HOST|https:\/\//);
  }
  const ok = await api(server, 'POST', '/v1/server/url', { body: { url: 'https://drover.edge.test:9443', keepOldSeconds: 3600 }, ...admin });
  t.equal(ok.status, 200, 'URL set');
  t.match(ok.json, { url: 'https://drover.edge.test:9443', keepOldUntil: /Z$/ });
  const socket = tls.connect({ host: '127.0.0.1', port: server.port, ca: server.caPem, servername: 'drover.edge.test' });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', () => resolve()).once('error', reject));
  t.ok(socket.authorized, 'the certificate vouches for the new host');
  socket.destroy();
});
