// The OIDC provider against Dex (test/idp/dex.ts) through the server's API and the web-login
// functions the dashboard calls: configuration checks, the authorization-code + PKCE login, a
// state used twice, a code presented with another login's verifier, and Dex down (503).
import t from 'tap';
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, errorCode, serverForTest } from '../integration/server-harness.ts';
import { finishWebLogin, startWebLogin } from '../../server-lite/auth/providers/web-login.ts';
import { ServerError } from '../../server-lite/errors.ts';
import { DEX_MOCK_USER, startDex } from './dex.ts';
import { followRedirects } from './browser.ts';

const CALLBACK = 'https://ui.drover.test/callback';
const dir = mkdtempSync(join(tmpdir(), 'drover-oidc-'));
const dex = await startDex(dir, { redirectUris: [CALLBACK] });
t.teardown(async () => {
  await dex.stop();
  rmSync(dir, { recursive: true, force: true });
});

const config = (over: Record<string, unknown> = {}) => ({
  kind: 'oidc', issuer: dex.issuer, clientId: dex.clientId, caPem: dex.caPem, scopes: ['email', 'groups', 'offline_access'],
  usernameClaim: 'email', groupsClaim: 'groups', groupTtlSeconds: 900, ...over,
});
const code = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof ServerError ? err.code : `other: ${(err as Error).message}`;
  }
};
const browserCallback = async (authorizationUrl: string): Promise<{ code: string; state: string }> => {
  const back = new URL(await followRedirects(authorizationUrl, dex.caPem, CALLBACK));
  return { code: back.searchParams.get('code') ?? '', state: back.searchParams.get('state') ?? '' };
};

t.test('oidc: configuration is validated; names are unique and not reserved; secrets never answered', async (t) => {
  const server = await serverForTest(t);
  const as = { bearer: server.adminToken };
  const add = (name: string, cfg: unknown, secret = dex.clientSecret) => api(server, 'POST', '/v1/auth/providers', { ...as, body: { name, config: cfg, secret } });
  t.equal((await add('sso', config())).status, 201);
  t.equal(errorCode(await add('sso', config())), 'PROVIDER_EXISTS');
  t.equal(errorCode(await add('local', config())), 'INVALID_REQUEST', 'reserved name');
  t.equal(errorCode(await add('x', config({ issuer: 'http://127.0.0.1/dex' }))), 'INVALID_REQUEST', 'http issuer');
  t.equal(errorCode(await add('y', config({ surprise: true }))), 'INVALID_REQUEST', 'unknown field');
  t.equal(errorCode(await add('z', config(), '')), 'INVALID_REQUEST', 'empty secret');
  t.equal(errorCode(await add('Bad:Name', config())), 'INVALID_REQUEST');
  const list = await api(server, 'GET', '/v1/auth/providers', as);
  t.notMatch(list.text, dex.clientSecret);
  t.equal((await api(server, 'GET', '/v1/auth/providers')).status, 401, 'listing needs the admin');
  t.same((await api(server, 'GET', '/v1/auth/login-options')).json, { local: true, providers: [{ name: 'sso', kind: 'oidc' }] }, 'login options are public: names and kinds');
});

t.test('oidc: the web login (authorization code + PKCE) gives a Drover token; states are single-use and bound to their verifier', async (t) => {
  const server = await serverForTest(t);
  t.equal((await api(server, 'POST', '/v1/auth/providers', { bearer: server.adminToken, body: { name: 'sso', config: config(), secret: dex.clientSecret } })).status, 201);
  const start = await startWebLogin(server.ctx, 'sso', CALLBACK);
  t.match(start.authorizationUrl, /code_challenge_method=S256/);
  const back = await browserCallback(start.authorizationUrl);
  t.equal(back.state, start.state);
  const minted = await finishWebLogin(server.ctx, 'sso', back);
  t.equal(minted.user, `sso:${DEX_MOCK_USER.email}`);
  t.same(minted.groups, ['sso:authors']);
  const who = (await api(server, 'GET', '/v1/whoami', { bearer: minted.token })).json as { user: string; idp: string };
  t.same([who.user, who.idp], [minted.user, 'oidc']);
  t.equal(await code(finishWebLogin(server.ctx, 'sso', back)), 'LOGIN_FAILED', 'the same state again');

  // Two logins; the code of the first presented with the state (and so the PKCE verifier) of the second.
  const a = await startWebLogin(server.ctx, 'sso', CALLBACK);
  const b = await startWebLogin(server.ctx, 'sso', CALLBACK);
  const backA = await browserCallback(a.authorizationUrl);
  t.equal(await code(finishWebLogin(server.ctx, 'sso', { code: backA.code, state: b.state })), 'LOGIN_FAILED', "another login's verifier does not redeem the code");
  t.equal(await code(startWebLogin(server.ctx, 'sso', 'http://evil.test/cb')), 'INVALID_REQUEST');
  t.equal(await code(startWebLogin(server.ctx, 'nope', CALLBACK)), 'PROVIDER_NOT_FOUND');

  await dex.stop();
  t.equal(await code(startWebLogin(server.ctx, 'sso', CALLBACK)), 'PROVIDER_UNAVAILABLE', 'Dex down: 503 at login');
  t.equal((await api(server, 'GET', '/v1/whoami', { bearer: server.adminToken })).status, 200, 'the admin token does not need the provider');
  await dex.restart();
});

t.test('oidc: groups are refreshed with the refresh token after the TTL; a refresh Dex refuses ends the access', async (t) => {
  const server = await serverForTest(t);
  t.equal((await api(server, 'POST', '/v1/auth/providers', { bearer: server.adminToken, body: { name: 'sso', config: config({ groupTtlSeconds: 1 }), secret: dex.clientSecret } })).status, 201);
  const start = await startWebLogin(server.ctx, 'sso', CALLBACK);
  const minted = await finishWebLogin(server.ctx, 'sso', await browserCallback(start.authorizationUrl));
  const ext = await server.ctx.store.getExternalUser(minted.user);
  t.ok(ext?.sealedRefresh, 'the refresh token is kept, sealed');
  t.notMatch(ext?.sealedRefresh ?? '', /^[A-Za-z0-9]{20,}$/, 'not in clear');
  await new Promise((r) => setTimeout(r, 1100));
  const who = await api(server, 'GET', '/v1/whoami', { bearer: minted.token });
  t.equal(who.status, 200, `refreshed through Dex: ${who.text}`);
  t.ok(((await server.ctx.store.getExternalUser(minted.user))?.refreshedAt ?? 0) > (ext?.refreshedAt ?? 0), 'membership re-read');
  // Dex keeps refresh tokens in memory: after a restart it no longer knows this one.
  await dex.stop();
  await dex.restart();
  await new Promise((r) => setTimeout(r, 1100));
  const after = await api(server, 'GET', '/v1/whoami', { bearer: minted.token });
  t.equal(after.status, 401, 'the provider no longer vouches: refused');
  t.match(after.text, /no longer vouches/);
  t.equal(await server.ctx.store.getUser(minted.user), undefined, 'the user is gone from Drover with their tokens');
});
