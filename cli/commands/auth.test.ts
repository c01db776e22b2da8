// Usage errors of the identity commands come before any request: exit 2 with a message naming the flag.
import t from 'tap';
import { execa } from 'execa';
import { childEnv, DROVER } from '../../test/e2e/agent-helpers.ts';

const run = (args: string[]) => execa(DROVER, args, { reject: false, env: childEnv(), extendEnv: false, timeout: 30_000 });
const remote = ['--server', 'https://127.0.0.1:1', '--token', 'x'];

t.test('auth provider add: the secret must come from stdin or a file, never argv', async (t) => {
  let r = await run(['auth', 'provider', 'add', 'oidc', 'sso', '--issuer', 'https://idp.test', '--client-id', 'drover', ...remote]);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /--client-secret-stdin .* or --client-secret-file/);
  r = await run(['auth', 'provider', 'add', 'oidc', 'sso', '--issuer', 'https://idp.test', '--client-id', 'drover', '--client-secret', 'oops', ...remote]);
  t.equal(r.exitCode, 2, 'there is no --client-secret flag');
  r = await run(['auth', 'provider', 'add', 'ldap', 'corp', '--url', 'ldaps://x', '--bind-dn', 'cn=a', '--user-base', 'dc=x', '--group-base', 'dc=x', '--bind-password-file', '/nonexistent', ...remote]);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /cannot read \/nonexistent .*--bind-password-file/);
  r = await run(['auth', 'provider', 'add', 'ldap', 'corp', '--url', 'ldaps://x', '--bind-dn', 'cn=a', '--user-base', 'dc=x', '--group-base', 'dc=x', '--bind-password-file', '/etc/hostname', '--group-ttl', 'soon', ...remote]);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /--group-ttl/);
});

t.test('role bind: a user or --group, not both, not neither', async (t) => {
  for (const args of [['alice', '--group', 'corp:ops'], []]) {
    const r = await run(['role', 'bind', ...args, '--cluster', 'c-1', '--role', 'read-only', ...remote]);
    t.equal(r.exitCode, 2, args.join(' '));
    t.match(r.stderr, /USER or --group/);
  }
});

t.test('login: a password login needs --username; no server is a usage error', async (t) => {
  let r = await run(['login', '--server', 'https://127.0.0.1:1']);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /--username/);
  r = await run(['login', '--server', 'http://127.0.0.1:1', '--username', 'a']);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /https:\/\//);
});
