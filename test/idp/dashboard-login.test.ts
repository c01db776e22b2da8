// Signing in to the web dashboard through the identity providers (issues 18 and 20), against the
// real Dex and slapd: the login page offers them, OIDC goes through Dex's sign-in and back to the
// callback, which sets the session cookie and continues to the dashboard from our own site; the
// state must be this browser's (login CSRF); a directory user signs in with the LDAP form.
import t from 'tap';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, serverForTest } from '../integration/server-harness.ts';
import { DEX_MOCK_USER, startDex } from './dex.ts';
import { followRedirects } from './browser.ts';
import { LDAP_BASE, LDAP_PEOPLE, LDAP_READER, startSlapd } from './slapd.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(url: string, ca: string, cookie?: string, form?: Record<string, string>): Promise<Answer> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  const origin = new URL(url).origin;
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: form ? 'POST' : 'GET',
        ca,
        agent: false,
        headers: {
          ...(cookie ? { cookie } : {}),
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded', origin, 'content-length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `name=value` of the cookies an answer sets (for the next request). */
const cookiesOf = (a: Answer): string =>
  ([] as string[]).concat(a.headers['set-cookie'] ?? []).map((c) => c.split(';')[0] ?? '').filter((c) => !c.endsWith('=')).join('; ');

const dir = mkdtempSync(join(tmpdir(), 'drover-ui-idp-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('dashboard: sign in through OIDC (Dex) and LDAP (slapd)', async (t) => {
  const server = await serverForTest(t);
  const host = new URL(server.url).host;
  const dex = await startDex(join(dir, 'dex'), { redirectUris: [`https://${host}/ui/login/callback/sso`] });
  t.teardown(() => dex.stop());
  const slapd = await startSlapd(join(dir, 'slapd'));
  t.teardown(() => slapd.stop());
  const as = { bearer: server.adminToken };
  const oidc = { kind: 'oidc', issuer: dex.issuer, clientId: dex.clientId, caPem: dex.caPem, scopes: ['email', 'groups'], usernameClaim: 'email', groupsClaim: 'groups', groupTtlSeconds: 900 };
  t.equal((await api(server, 'POST', '/v1/auth/providers', { ...as, body: { name: 'sso', config: oidc, secret: dex.clientSecret } })).status, 201);
  const ldap = {
    kind: 'ldap', url: slapd.ldapsUrl, startTls: false, caPem: slapd.caPem, bindDn: LDAP_READER.dn, userBase: `ou=people,${LDAP_BASE}`, userAttribute: 'uid',
    userFilter: '(objectClass=inetOrgPerson)', groupBase: `ou=groups,${LDAP_BASE}`, groupMemberAttribute: 'member', groupNameAttribute: 'cn', groupFilter: '(objectClass=groupOfNames)', groupTtlSeconds: 300,
  };
  t.equal((await api(server, 'POST', '/v1/auth/providers', { ...as, body: { name: 'corp', config: ldap, secret: LDAP_READER.password } })).status, 201);

  const page = await get(`${server.url}/ui/login`, server.caPem);
  t.match(page.body, /href="\/ui\/login\/sso\/sso"/, 'the login page offers the OIDC provider');
  t.match(page.body, /name="provider" value="corp"/, 'and a form for the directory');

  // OIDC: our start → Dex → back to our callback (with this browser's state cookie).
  const start = await get(`${server.url}/ui/login/sso/sso`, server.caPem);
  t.equal(start.status, 303);
  const stateCookie = cookiesOf(start);
  t.match(stateCookie, /^__Host-drover-sso=/);
  const callback = await followRedirects(String(start.headers.location), dex.caPem, `https://${host}/ui/login/callback/sso`);
  const stolen = await get(callback, server.caPem);
  t.equal(stolen.status, 401, 'a callback without this browser\'s state cookie is refused (login CSRF)');
  t.match(stolen.body, /not started in this browser/);
  const back = await get(callback.replace(/([?&])state=[^&]*/, '$1state=other'), server.caPem, stateCookie);
  t.equal(back.status, 401, 'a state that is not the cookie\'s is refused');
  const done = await get(callback, server.caPem, stateCookie);
  t.equal(done.status, 200, done.body.slice(0, 300));
  t.match(done.body, /http-equiv="refresh" content="0;url=\/ui\/clusters"/, 'continues to the dashboard from our own page');
  const session = cookiesOf(done);
  t.match(session, /__Host-drover-ui=/);
  t.match(String(done.headers['set-cookie']), /SameSite=Strict/);
  const clusters = await get(`${server.url}/ui/clusters`, server.caPem, session);
  t.equal(clusters.status, 200);
  t.match(clusters.body, new RegExp(`sso:${DEX_MOCK_USER.email.replace('.', '\\.')}`), 'signed in as the OIDC user');
  t.equal((await get(callback, server.caPem, stateCookie)).status, 401, 'the same callback twice: refused');

  // LDAP through the login form.
  const [uid, person] = Object.entries(LDAP_PEOPLE)[0] ?? ['', { password: '' }];
  const wrong = await get(`${server.url}/ui/login`, server.caPem, undefined, { provider: 'corp', username: uid, password: 'wrong-password', next: '/ui/clusters' });
  t.equal(wrong.status, 401, 'a wrong directory password');
  const injected = await get(`${server.url}/ui/login`, server.caPem, undefined, { provider: 'corp', username: '*)(uid=*', password: person.password, next: '/ui/clusters' });
  t.equal(injected.status, 401, 'filter characters in the user name match nobody');
  const ok = await get(`${server.url}/ui/login`, server.caPem, undefined, { provider: 'corp', username: uid, password: person.password, next: '/ui/clusters' });
  t.equal(ok.status, 303, ok.body.slice(0, 300));
  const ldapClusters = await get(`${server.url}/ui/clusters`, server.caPem, cookiesOf(ok));
  t.match(ldapClusters.body, new RegExp(`corp:${uid}`), 'signed in as the directory user');
});
