// The upgrades page over HTTPS against an in-process server (no browser): a signed release
// imported through POST /v1/releases (the CLI's path) is listed; before any rollout the page says
// so; after POST /v1/upgrades the latest rollout shows with its agents (here not connected, so
// Offline); a user who is not an admin gets 403, as from GET /v1/upgrades, and no navigation link.
import t from 'tap';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { api, createToken, registerAgent, serverForTest, tempDir, type Reply } from '../integration/server-harness.ts';
import { makeRelease, scriptExe, testKey } from '../e2e/upgrade-helpers.ts';
import { SESSION_COOKIE } from '../../server-lite/ui/session-cookie.ts';

type Server = Awaited<ReturnType<typeof serverForTest>>;
const cookieOf = (r: Reply): string => ([] as string[]).concat(r.headers['set-cookie'] ?? []).find((x) => x.startsWith(`${SESSION_COOKIE}=`))?.split(';')[0] ?? '';
const login = async (server: Server, fields: Record<string, string>): Promise<string> =>
  cookieOf(await api(server, 'POST', '/ui/login', { raw: new URLSearchParams(fields).toString(), contentType: 'application/x-www-form-urlencoded', headers: { origin: server.url } }));
const get = (server: Server, p: string, cookie: string): Promise<Reply> => api(server, 'GET', p, { headers: { cookie } });

t.test('upgrades page: releases, the latest rollout per agent, admins only', async (t) => {
  const dir = tempDir('drover-ui-upgrades-');
  const key = testKey(dir);
  // The server verifies release signatures with this public key (read when it starts).
  process.env.DROVER_RELEASE_PUBLIC_KEY = key.publicFile;
  const server = await serverForTest(t);
  const admin = server.adminToken;
  for (const name of ['alpha', 'beta']) await registerAgent(server, (await createToken(server, { labels: { site: name } })).secret, { name, hostname: name, labels: { site: name } });
  t.equal((await api(server, 'POST', '/v1/users', { bearer: admin, body: { name: 'alice', password: 'alice-password' } })).status, 201);
  const cookie = await login(server, { token: admin });

  const empty = await get(server, '/ui/upgrades', cookie);
  t.equal(empty.status, 200);
  t.match(empty.text, /data-testid="no-rollout"/);
  t.match(empty.text, /No release imported/);
  t.match(empty.text, /href="\/ui\/upgrades"[^>]*aria-current="page"/);

  const rel = makeRelease(path.join(dir, 'rel'), '9.9.9', scriptExe('9.9.9'), key);
  const exe = readFileSync(path.join(rel, 'drover-linux-amd64'));
  const imported = await api(server, 'POST', '/v1/releases/9.9.9/drover-linux-amd64', {
    bearer: admin, raw: exe, contentType: 'application/octet-stream',
    headers: { 'x-drover-sums': readFileSync(path.join(rel, 'sha256sums')).toString('base64'), 'x-drover-signature': readFileSync(path.join(rel, 'sha256sums.sig'), 'utf8').trim() },
  });
  t.equal(imported.status, 201, imported.text);
  const started = await api(server, 'POST', '/v1/upgrades', { bearer: admin, body: { version: '9.9.9', target: 'site in (alpha,beta)' } });
  t.equal(started.status, 201, started.text);

  const page = await get(server, '/ui/upgrades', cookie);
  t.equal(page.status, 200);
  t.match(page.text, /<tr data-release="9\.9\.9\/amd64">/, 'the release is listed');
  t.match(page.text, /data-testid="rollout" data-state="Running"/);
  t.match(page.text, /Latest rollout: version 9\.9\.9/);
  const api2 = (await api(server, 'GET', '/v1/upgrades', { bearer: admin })).json as { agents: { id: string; state: string }[] };
  t.equal(api2.agents.length, 2);
  for (const a of api2.agents) t.match(page.text, new RegExp(`<tr data-agent="${a.id}" data-state="${a.state}">`), `agent ${a.id} as the API shows it`);
  t.match(page.text, /aria-label="Upgrade to 9\.9\.9, agents by state: 2 Offline"/);

  const user = await login(server, { username: 'alice', password: 'alice-password' });
  t.equal((await get(server, '/ui/upgrades', user)).status, 403);
  t.notMatch((await get(server, '/ui/clusters', user)).text, /href="\/ui\/upgrades"/, 'no link for her');
});
