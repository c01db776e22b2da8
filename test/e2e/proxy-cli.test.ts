// The issue-5 commands as a user runs them: `drover user …`, `drover user token …`, `role …`,
// `kubeconfig`, `audit …` against a real `drover server` process; exit codes per the contract
// (2 usage, 4 token rejected), only the token or kubeconfig on stdout, help with an example.
import t from 'tap';
import path from 'node:path';
import { execa } from 'execa';
import { childEnv, drover, DROVER, startServer, testDir } from './agent-helpers.ts';

t.test('user, token, role, kubeconfig and audit commands', async (t) => {
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const server = await startServer(serverDir);
  t.teardown(() => server.proc.stop());
  const asAdmin = (args: string[], input?: string) =>
    execa(DROVER, [...args, '--data-dir', serverDir], { reject: false, env: childEnv(), extendEnv: false, ...(input === undefined ? {} : { input }) });

  t.equal((await asAdmin(['user', 'create', 'erin', '--password-stdin'], 'erin-password\n')).exitCode, 0);
  t.equal((await asAdmin(['user', 'create', 'erin'])).exitCode, 1, 'USER_EXISTS is a failure');
  t.equal((await asAdmin(['user', 'create', 'frank', '--global-role', 'root'])).exitCode, 2, 'bad --global-role is usage');
  const users = JSON.parse(String((await asAdmin(['user', 'list', '--json'])).stdout)) as { name: string; hasPassword: boolean }[];
  t.match(users, [{ name: 'erin', hasPassword: true }]);

  const login = await execa(DROVER, ['user', 'login', 'erin', '--server', server.url, '--ca-file', path.join(serverDir, 'tls', 'ca.crt')], {
    reject: false, env: childEnv(), extendEnv: false, input: 'erin-password\n',
  });
  t.equal(login.exitCode, 0, String(login.stderr));
  t.match(String(login.stdout).trim(), /^t-[a-z2-7]{10}\.[a-z2-7]{40}$/, 'login prints only a token');
  const wrong = await execa(DROVER, ['user', 'login', 'erin', '--server', server.url, '--ca-file', path.join(serverDir, 'tls', 'ca.crt')], {
    reject: false, env: childEnv(), extendEnv: false, input: 'nope\n',
  });
  t.equal(wrong.exitCode, 4, 'a wrong password is a rejected credential');

  const minted = await asAdmin(['user', 'token', 'create', 'erin', '--ttl', '1h', '--description', 'e2e']);
  t.equal(minted.exitCode, 0, String(minted.stderr));
  const token = String(minted.stdout).trim();
  t.match(token, /^t-[a-z2-7]{10}\.[a-z2-7]{40}$/, 'stdout is only the token');
  const caFile = path.join(serverDir, 'tls', 'ca.crt');
  const asErin = (args: string[]) => drover([...args, '--server', server.url, '--token', token, '--ca-file', caFile]);

  const own = await asErin(['user', 'token', 'list', '--json']);
  t.equal(own.exitCode, 0, own.stderr);
  const tokens = JSON.parse(own.stdout) as { id: string; state: string; description: string }[];
  t.match(tokens, [{ state: 'active', description: 'login' }, { state: 'active', description: 'e2e' }]);
  const denied = await asErin(['cluster', 'list']);
  t.equal(denied.exitCode, 4, 'a user calling an admin command: token rejected (403)');
  t.match(denied.stderr, 'FORBIDDEN');
  t.equal((await asErin(['role', 'list', '--json'])).exitCode, 0, 'users list their own bindings');
  t.equal((await asAdmin(['role', 'bind', 'erin', '--cluster', 'c-none', '--role', 'read-only'])).exitCode, 1, 'CLUSTER_NOT_FOUND');
  t.equal((await asAdmin(['role', 'bind', 'erin', '--cluster', 'c-none', '--role', 'owner'])).exitCode, 2, 'bad --role is usage');

  const kc = await asErin(['kubeconfig', 'c-whatever']);
  t.equal(kc.exitCode, 0, kc.stderr);
  const doc = JSON.parse(kc.stdout) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[]; users: { user: { token: string } }[] };
  t.equal(doc.clusters[0]?.cluster.server, `${server.url}/k8s/clusters/c-whatever`);
  t.match(Buffer.from(doc.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), 'BEGIN CERTIFICATE');
  t.equal(doc.users[0]?.user.token, token, 'without --user: the caller’s own token');
  t.equal((await asErin(['kubeconfig', 'c-whatever', '--user', 'admin'])).exitCode, 4, 'a user cannot mint for others');

  const id = tokens.find((x) => x.description === 'e2e')?.id ?? '';
  t.equal((await asErin(['user', 'token', 'revoke', id])).exitCode, 0);
  const after = await asErin(['user', 'token', 'list']);
  t.equal(after.exitCode, 4, 'the revoked token is rejected at once');

  const verify = await asAdmin(['audit', 'verify']);
  t.equal(verify.exitCode, 0, String(verify.stderr));
  t.match(String(verify.stdout), /audit chain ok: \d+ rows/);
  const rows = JSON.parse(String((await asAdmin(['audit', 'list', '--json', '--limit', '1000'])).stdout)) as { user: string; status: number }[];
  t.ok(rows.some((r) => r.user === 'erin' && r.status === 403), 'the refused call is audited');
  t.equal((await asAdmin(['audit', 'list', '--after', 'x'])).exitCode, 2);

  for (const cmd of [['user', 'login'], ['user', 'create'], ['user', 'token', 'create'], ['role', 'bind'], ['role', 'list'], ['kubeconfig'], ['audit', 'verify'], ['audit', 'list']]) {
    const help = await drover([...cmd, '--help']);
    t.match(help.stdout, /Example:\n  .*drover /, `${cmd.join(' ')} --help shows an example`);
  }
});
