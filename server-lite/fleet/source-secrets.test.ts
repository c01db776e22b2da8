import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitCredentials, isSshUrl } from './source-secrets.ts';
import type { SourceSecret } from '../secrets-store/source-secret.ts';
import { helmAccessFor } from './helm-access.ts';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
const secrets = new Map<string, SourceSecret>([
  ['basic', { name: 'basic', type: 'basic-auth', data: { username: 'deploy', password: 'pw-1', caBundle: 'CA-PEM' } }],
  ['tok', { name: 'tok', type: 'token', data: { token: 't-1' } }],
  ['key', { name: 'key', type: 'ssh', data: { privateKey: KEY, knownHosts: 'h ssh-ed25519 AAAA' } }],
  ['client', { name: 'client', type: 'tls', data: { cert: 'CERT', key: 'KEY' } }],
]);
const lookup = { get: (n: string) => secrets.get(n) };

t.test('source secrets: URL kinds', async (t) => {
  for (const u of ['ssh://git@h/x.git', 'git@github.com:o/r.git', 'deploy@10.0.0.1:repos/x']) t.ok(isSshUrl(u), u);
  for (const u of ['https://h/x.git', 'http://u:p@h/x', 'file:///srv/x.git', '/srv/x.git']) t.notOk(isSshUrl(u), u);
});

t.test('source secrets: HTTP credentials go to env and an inline helper, never into files or argv', async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'drover-cred-test-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const c = await gitCredentials('https://h/x.git', { clientSecretName: 'basic' }, lookup, scratch, 'g');
  t.same([c.env.DROVER_GIT_USERNAME, c.env.DROVER_GIT_PASSWORD, c.env.GIT_CONFIG_COUNT, c.env.GIT_CONFIG_KEY_0], ['deploy', 'pw-1', '1', 'credential.helper']);
  t.notMatch(c.env.GIT_CONFIG_VALUE_0 ?? '', /pw-1/, 'the helper reads the password from the environment');
  t.equal(readFileSync(c.env.GIT_SSL_CAINFO ?? '', 'utf8'), 'CA-PEM\n', 'the CA from the secret');
  t.equal(statSync(c.env.GIT_SSL_CAINFO ?? '').mode & 0o777, 0o600);
  await c.cleanup();
  t.same(readdirSync(scratch), [], 'cleanup removes every file');
  const tok = await gitCredentials('https://h/x.git', { clientSecretName: 'tok', insecureSkipTLSVerify: true }, lookup, scratch, 'g');
  t.same([tok.env.DROVER_GIT_USERNAME, tok.env.DROVER_GIT_PASSWORD, tok.env.GIT_SSL_NO_VERIFY], ['token', 't-1', '1']);
  t.same(readdirSync(scratch), [], 'a token needs no file at all');
  const tls = await gitCredentials('https://h/x.git', { clientSecretName: 'client' }, lookup, scratch, 'g');
  t.same([readFileSync(tls.env.GIT_SSL_CERT ?? '', 'utf8'), readFileSync(tls.env.GIT_SSL_KEY ?? '', 'utf8')], ['CERT\n', 'KEY\n']);
  await tls.cleanup();
});

t.test('source secrets: SSH uses only the secret key and known_hosts, strictly', async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'drover-cred-test-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const c = await gitCredentials('git@h:o/r.git', { clientSecretName: 'key' }, lookup, scratch, 'g');
  const cmd = c.env.GIT_SSH_COMMAND ?? '';
  for (const o of ['-F /dev/null', 'IdentitiesOnly=yes', 'StrictHostKeyChecking=yes', 'GlobalKnownHostsFile=/dev/null', 'BatchMode=yes']) t.match(cmd, o);
  t.notMatch(cmd, /AAAA/, 'no key material on the ssh command line');
  const [dir] = readdirSync(scratch);
  t.same(readdirSync(join(scratch, dir ?? '')).sort(), ['id', 'known_hosts']);
  t.equal(statSync(join(scratch, dir ?? '', 'id')).mode & 0o777, 0o600);
  await c.cleanup();
  t.same(readdirSync(scratch), []);
});

t.test('source secrets: a missing or mismatched secret is GIT_CREDENTIALS_MISSING and leaves nothing', async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'drover-cred-test-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  await t.rejects(gitCredentials('https://h/x', { clientSecretName: 'nope' }, lookup, scratch, 'g'), { code: 'GIT_CREDENTIALS_MISSING', message: /clientSecretName nope is not a stored secret/ });
  await t.rejects(gitCredentials('https://h/x', { clientSecretName: 'key' }, lookup, scratch, 'g'), { code: 'GIT_CREDENTIALS_MISSING', message: /ssh secret/ });
  await t.rejects(gitCredentials('ssh://git@h/x', { clientSecretName: 'basic' }, lookup, scratch, 'g'), { code: 'GIT_CREDENTIALS_MISSING', message: /--type ssh/ });
  t.same(readdirSync(scratch), []);
  const none = await gitCredentials('https://h/x', {}, lookup, scratch, 'g');
  t.same(none.env, {}, 'no secret: no credentials');
});

t.test('helm access: helmSecretName for every chart URL, or only those helmRepoURLRegex matches', async (t) => {
  const all = helmAccessFor('g', { helmSecretName: 'basic' }, lookup);
  t.same([all.forUrl('https://charts.example.com').username, all.forUrl('oci://r.example.com/x').password], ['deploy', 'pw-1']);
  const some = helmAccessFor('g', { helmSecretName: 'tok', helmRepoURLRegex: '^oci://r\\.example\\.com/', caBundle: 'GITREPO-CA' }, lookup);
  t.same(some.forUrl('oci://r.example.com/x'), { insecureSkipTLSVerify: undefined, caBundle: 'GITREPO-CA', username: 'token', password: 't-1', cert: undefined, key: undefined });
  t.same(some.forUrl('https://other.example.com'), { insecureSkipTLSVerify: undefined, caBundle: 'GITREPO-CA' }, 'not matching: no credentials');
  t.match(helmAccessFor('g', { helmSecretName: 'nope' }, lookup).forUrl('https://x').problem, /not a stored secret/);
  t.match(helmAccessFor('g', { helmSecretName: 'key' }, lookup).forUrl('https://x').problem, /ssh secret/);
  const charts = new Map<string, { chart: string; version: string }>();
  helmAccessFor('g', {}, lookup, charts).resolved('g-web', 'web', '1.2.3');
  t.same(charts.get('g-web'), { chart: 'web', version: '1.2.3' });
});
