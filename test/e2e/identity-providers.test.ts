// Issue 18 acceptance (identity providers): LDAP users (Debian's slapd) and OIDC users (Dex built
// from its Go module) reach a real kube-apiserver through the proxy with roles bound to their
// groups, using kubectl with the kubeconfig Drover mints for them; every audit row names their
// provider. Group membership is re-read after the provider's TTL: a user taken out of a group or
// deleted at the provider loses access. Bad input: wrong passwords, `*)(uid=*` as a user name, a
// wrong client secret, a provider that is down (503 at login, local users and the admin token
// unaffected).
import t from 'tap';
import path from 'node:path';
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { freePorts } from '../k8s/ports.ts';
import { agentStatus, childEnv, createToken, DROVER, startAgent, startServer, waitFor, testDir } from './agent-helpers.ts';
import { LDAP_BASE, LDAP_PEOPLE, LDAP_READER, startSlapd } from '../idp/slapd.ts';
import { DEX_MOCK_USER, startDex } from '../idp/dex.ts';
import { followRedirects } from '../idp/browser.ts';

/** Plays the browser up to the CLI's loopback listener, then calls it; the listener's status. */
async function browse(start: string, ca: string, loopback: string): Promise<number> {
  const url = await followRedirects(start, ca, loopback);
  return new Promise((resolve, reject) => http.get(url, (r) => (r.resume(), resolve(r.statusCode ?? 0))).on('error', reject));
}

t.test('identity providers: LDAP and OIDC users reach a real cluster through group-bound roles', async (t) => {
  const dir = testDir(t);
  const [callbackPort = 0] = await freePorts(1);
  const loopback = `http://127.0.0.1:${callbackPort}/callback`;
  const [cluster, slapd, dex] = await Promise.all([
    startCluster({ nodes: 1 }),
    startSlapd(path.join(dir, 'slapd')),
    startDex(path.join(dir, 'dex'), { redirectUris: [loopback] }),
  ]);
  t.teardown(() => Promise.all([cluster.stop(), slapd.stop(), dex.stop()]));
  const serverDir = path.join(dir, 'server');
  const server = await startServer(serverDir);
  t.teardown(() => server.proc.stop());
  const caFile = path.join(serverDir, 'tls', 'ca.crt');
  const admin = (args: string[], input?: string) =>
    execa(DROVER, [...args, '--data-dir', serverDir], { reject: false, env: childEnv(), extendEnv: false, timeout: 60_000, ...(input === undefined ? {} : { input }) });
  const asUser = (args: string[], input?: string) =>
    execa(DROVER, [...args, '--server', server.url, '--ca-file', caFile], { reject: false, env: childEnv({ HOME: dir }), extendEnv: false, timeout: 60_000, ...(input === undefined ? {} : { input }) });

  // --- providers -------------------------------------------------------------------------------
  const ldapArgs = (name: string, url: string, extra: string[] = []) => [
    'auth', 'provider', 'add', 'ldap', name, '--url', url, '--provider-ca-file', slapd.caFile, '--bind-dn', LDAP_READER.dn, '--bind-password-stdin',
    '--user-base', `ou=people,${LDAP_BASE}`, '--user-filter', '(objectClass=inetOrgPerson)', '--group-base', `ou=groups,${LDAP_BASE}`,
    '--group-filter', '(objectClass=groupOfNames)', '--group-ttl', '2s', ...extra,
  ];
  let r = await admin(ldapArgs('corp', slapd.ldapUrl, ['--start-tls']), LDAP_READER.password);
  t.equal(r.exitCode, 0, String(r.stderr));
  r = await admin(['auth', 'provider', 'add', 'oidc', 'sso', '--issuer', dex.issuer, '--client-id', dex.clientId, '--client-secret-stdin', '--provider-ca-file', dex.caFile, '--group-ttl', '2s'], dex.clientSecret);
  t.equal(r.exitCode, 0, String(r.stderr));
  r = await admin(['auth', 'provider', 'add', 'oidc', 'badsso', '--issuer', dex.issuer, '--client-id', dex.clientId, '--client-secret-stdin', '--provider-ca-file', dex.caFile], 'not-the-secret');
  t.equal(r.exitCode, 0, String(r.stderr));
  r = await admin(ldapArgs('plain', slapd.ldapUrl), LDAP_READER.password);
  t.equal(r.exitCode, 2, 'plain ldap:// without StartTLS is a usage error');
  t.match(String(r.stderr), /ldaps:\/\/ or StartTLS/);
  r = await admin(ldapArgs('nosecret', slapd.ldapsUrl), '');
  t.equal(r.exitCode, 2, 'an empty bind password is a usage error');
  r = await admin(['auth', 'provider', 'list', '--json']);
  const listed = JSON.parse(String(r.stdout)) as { name: string; kind: string }[];
  t.same(listed.map((p) => `${p.name}/${p.kind}`), ['badsso/oidc', 'corp/ldap', 'sso/oidc']);
  t.notMatch(String(r.stdout), new RegExp(`${LDAP_READER.password}|${dex.clientSecret}`), 'secrets never come back');
  const db = readFileSync(path.join(serverDir, 'server.db'));
  t.equal(db.indexOf(LDAP_READER.password), -1, 'the bind password is not in the database in clear');
  t.equal(db.indexOf(dex.clientSecret), -1, 'the client secret is not in the database in clear');

  // --- a cluster, roles bound to groups, a local user ------------------------------------------
  const agentDir = path.join(dir, 'agent');
  r = await execa(DROVER, ['agent', 'register', '--server', server.url, '--token', await createToken(serverDir), '--name', 'site', '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir], { reject: false, env: childEnv(), extendEnv: false });
  t.equal(r.exitCode, 0, String(r.stderr));
  const clusterId = (await agentStatus(agentDir)).clusterId;
  const agent = startAgent(agentDir, ['--roles', 'cluster']);
  t.teardown(() => agent.stop());
  for (const [group, role] of [['corp:ops', 'cluster-member'], ['corp:viewers', 'read-only'], ['sso:authors', 'read-only']]) {
    r = await admin(['role', 'bind', '--group', group ?? '', '--cluster', clusterId, '--role', role ?? '']);
    t.equal(r.exitCode, 0, String(r.stderr));
  }
  r = await admin(['role', 'bind', '--group', 'no-provider-part', '--cluster', clusterId, '--role', 'read-only']);
  t.equal(r.exitCode, 1, 'a group without its provider is refused');
  t.match(String(r.stderr), /PROVIDER:GROUP/);
  t.equal((await admin(['user', 'create', 'lena', '--password-stdin'], 'lena-pass-1')).exitCode, 0);
  t.equal((await admin(['role', 'bind', 'lena', '--cluster', clusterId, '--role', 'read-only'])).exitCode, 0);

  const login = async (provider: string | undefined, user: string, password: string) =>
    asUser(['login', ...(provider ? ['--provider', provider] : []), '--username', user, '--password-stdin', '--print', '--token-file', path.join(dir, `token-${user}`)], password);
  const kubeconfigs = new Map<string, string>();
  const kubectl = async (who: string, token: string, args: string[]) => {
    let file = kubeconfigs.get(token);
    if (!file) {
      const kc = await asUser(['kubeconfig', clusterId, '--token', token]);
      if (kc.exitCode !== 0) throw new Error(`kubeconfig for ${who}: ${String(kc.stderr)}`);
      file = path.join(dir, `kc-${who.replace(/[^a-z0-9]/g, '_')}-${kubeconfigs.size}.yaml`);
      writeFileSync(file, String(kc.stdout));
      kubeconfigs.set(token, file);
    }
    return execa(tools.kubectl(), ['--kubeconfig', file, ...args], { reject: false, timeout: 30_000 });
  };

  // --- LDAP --------------------------------------------------------------------------------------
  r = await login('corp', 'alice', LDAP_PEOPLE.alice?.password ?? '');
  t.equal(r.exitCode, 0, String(r.stderr));
  t.match(String(r.stderr), /logged in as corp:alice \(groups: corp:ops\)/);
  const alice = String(r.stdout).trim();
  t.equal(readFileSync(path.join(dir, 'token-alice'), 'utf8').trim(), alice, 'the token is stored');
  r = await login('corp', 'bob', LDAP_PEOPLE.bob?.password ?? '');
  t.equal(r.exitCode, 0, String(r.stderr));
  const bob = String(r.stdout).trim();
  r = await login('corp', 'carol', LDAP_PEOPLE.carol?.password ?? '');
  t.equal(r.exitCode, 0, String(r.stderr));
  const carol = String(r.stdout).trim();

  t.equal((await login('corp', 'alice', 'wrong-password')).exitCode, 4, 'wrong password: credential rejected');
  const injected = await login('corp', '*)(uid=*', LDAP_PEOPLE.alice?.password ?? '');
  t.equal(injected.exitCode, 4, '`*)(uid=*` logs nobody in');
  t.match(String(injected.stderr), /LOGIN_FAILED/);

  await waitFor('alice (corp:ops → cluster-member) reads through the proxy', async () => (await kubectl('alice', alice, ['get', 'pods', '-A'])).exitCode === 0, 60_000);
  await waitFor('the RBAC set with the group members applied', async () => (await kubectl('alice', alice, ['create', 'configmap', 'from-alice', '-n', 'default'])).exitCode === 0, 60_000);
  r = await kubectl('bob', bob, ['get', 'configmaps', '-n', 'default']);
  t.equal(r.exitCode, 0, `bob (corp:viewers → read-only) reads: ${String(r.stderr)}`);
  r = await kubectl('bob', bob, ['delete', 'configmap', 'from-alice', '-n', 'default']);
  t.not(r.exitCode, 0, 'bob may not delete');
  t.match(String(r.stderr), /forbidden/i);
  r = await kubectl('carol', carol, ['get', 'pods']);
  t.not(r.exitCode, 0, 'carol, in no bound group, does not see the cluster');
  t.match(String(r.stderr), /not found|NotFound|404/i);

  // --- OIDC (loopback redirect) ------------------------------------------------------------------
  const oidcLogin = async (provider: string): Promise<{ code: number | null; stdout: string; stderr: string; browser: number | string }> => {
    const child = spawn(DROVER, ['login', '--provider', provider, '--callback-port', String(callbackPort), '--print', '--server', server.url, '--ca-file', caFile, '--token-file', path.join(dir, `token-${provider}`)], {
      env: childEnv({ HOME: dir }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    let browser: number | string = 'not started';
    const url = await Promise.race([waitFor('the CLI to print the login URL', () => /^\s+(https:\/\/\S+)$/m.exec(stderr)?.[1]), exited.then(() => undefined)]);
    if (url) browser = await browse(url, dex.caPem, loopback).catch((e: Error) => (child.kill(), e.message));
    const code = await exited;
    return { code, stdout, stderr, browser };
  };
  const sso = await oidcLogin('sso');
  t.equal(sso.code, 0, sso.stderr);
  t.equal(sso.browser, 200, 'the loopback listener thanked the browser');
  const ssoUser = `sso:${DEX_MOCK_USER.email}`;
  t.match(sso.stderr, `logged in as ${ssoUser} (groups: sso:authors)`);
  const kilgore = sso.stdout.trim();
  await waitFor('the OIDC user (sso:authors → read-only) reads through the proxy', async () => (await kubectl('kilgore', kilgore, ['get', 'configmaps', '-n', 'default'])).exitCode === 0, 60_000);
  r = await kubectl('kilgore', kilgore, ['delete', 'configmap', 'from-alice', '-n', 'default']);
  t.not(r.exitCode, 0, 'read-only through the group: no delete');
  // Past the 2 s TTL the next request refreshes the groups with Dex's refresh token.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  r = await kubectl('kilgore', kilgore, ['get', 'configmaps', '-n', 'default']);
  t.equal(r.exitCode, 0, `after a membership refresh through the refresh token: ${String(r.stderr)}`);

  const bad = await oidcLogin('badsso');
  t.equal(bad.code, 1, 'a wrong client secret fails the login');
  t.match(bad.stderr, /PROVIDER_MISCONFIGURED.*client credentials/);

  // --- membership changes at the provider -------------------------------------------------------
  slapd.modify(`dn: cn=ops,ou=groups,${LDAP_BASE}\nchangetype: modify\ndelete: member\nmember: uid=alice,ou=people,${LDAP_BASE}\n-\nadd: member\nmember: ${LDAP_READER.dn}\n`);
  await waitFor('alice, out of corp:ops, loses the cluster', async () => (await kubectl('alice', alice, ['get', 'pods'])).exitCode !== 0, 60_000);
  slapd.modify(`dn: uid=bob,ou=people,${LDAP_BASE}\nchangetype: delete\n`);
  let lastBob = '';
  await waitFor('bob, deleted at the provider, is refused', async () => {
    const x = await kubectl('bob', bob, ['get', 'pods']);
    lastBob = `${x.exitCode} ${String(x.stderr)}`;
    return x.exitCode !== 0 && /Unauthorized|provide credentials|logged in to the server|401/i.test(String(x.stderr));
  }, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}; kubectl said: ${lastBob}`);
  });
  r = await admin(['user', 'list', '--json']);
  t.notOk((JSON.parse(String(r.stdout)) as { name: string }[]).some((u) => u.name === 'corp:bob'), 'bob is gone from Drover too');

  // --- audit --------------------------------------------------------------------------------------
  const audit = readFileSync(path.join(serverDir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const proxied = (user: string) => audit.filter((a) => a.user === user && a.cluster === clusterId);
  t.ok(proxied('corp:alice').length > 0, 'alice has proxied requests audited');
  t.ok(proxied('corp:alice').every((a) => a.idp === 'ldap' && a.provider === 'corp'), 'every alice row names LDAP provider corp');
  t.ok(proxied(ssoUser).length > 0 && proxied(ssoUser).every((a) => a.idp === 'oidc' && a.provider === 'sso'), 'every OIDC row names provider sso');
  t.ok(audit.some((a) => a.user === 'corp:*)(uid=*' && a.status === 401 && a.provider === 'corp'), 'the failed injection login is audited under the name tried');
  t.equal((await admin(['audit', 'verify'])).exitCode, 0, 'the audit chain with provider fields verifies');

  // --- a provider that is down --------------------------------------------------------------------
  await slapd.stop();
  r = await login('corp', 'alice', LDAP_PEOPLE.alice?.password ?? '');
  t.equal(r.exitCode, 1);
  t.match(String(r.stderr), /PROVIDER_UNAVAILABLE/, 'LDAP down: 503 at login');
  r = await kubectl('carol', carol, ['get', 'pods']);
  t.not(r.exitCode, 0);
  t.match(String(r.stderr), /identity provider corp is unavailable/, 'a token whose membership is due for a refresh fails closed while LDAP is down');
  await dex.stop();
  const down = await oidcLogin('sso');
  t.equal(down.code, 1);
  t.match(down.stderr, /PROVIDER_UNAVAILABLE/, 'Dex down: 503 at login');
  r = await login(undefined, 'lena', 'lena-pass-1');
  t.equal(r.exitCode, 0, `local users still log in: ${String(r.stderr)}`);
  r = await kubectl('lena', String(r.stdout).trim(), ['get', 'configmaps', '-n', 'default']);
  t.equal(r.exitCode, 0, `and reach the cluster: ${String(r.stderr)}`);
  r = await admin(['cluster', 'list', '--json']);
  t.equal(r.exitCode, 0, 'the admin token still works');

  r = await admin(['auth', 'provider', 'remove', 'sso']);
  t.equal(r.exitCode, 0, String(r.stderr));
  r = await kubectl('kilgore', kilgore, ['get', 'configmaps', '-n', 'default']);
  t.not(r.exitCode, 0, 'removing the provider removes its users');
});
