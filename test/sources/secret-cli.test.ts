// `drover secret create|list|delete` against a real `drover server`: values from stdin and files
// only, never shown back, never in the server's log or audit file, rotation with --replace, clear
// usage errors (exit 2) and refusals.
import t from 'tap';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, drover, DROVER, startServer } from '../e2e/agent-helpers.ts';

const PASSWORD = 'pw-3f9a1c-never-logged';
const TOKEN = 'tok-77ab-never-logged';

t.test('secret cli: create from stdin and files, list without values, replace, delete', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-secret-cli-'));
  const server = await startServer(join(dir, 'server'));
  t.teardown(async () => {
    await server.proc.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const admin = ['--data-dir', server.dataDir];
  const stdinCreate = (args: string[], input: string) =>
    execa(DROVER, ['secret', 'create', ...args, ...admin], { input, reject: false, env: childEnv(), extendEnv: false });

  const a = await stdinCreate(['git-creds', '--type', 'basic-auth', '--username', 'deploy', '--password-stdin'], `${PASSWORD}\n`);
  t.equal(a.exitCode, 0, String(a.stderr));
  const tokenFile = join(dir, 'token.txt');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  t.equal((await drover(['secret', 'create', 'charts', '--type', 'token', '--token-file', tokenFile, ...admin])).exitCode, 0);

  const list = await drover(['secret', 'list', '--json', ...admin]);
  t.equal(list.exitCode, 0, list.stderr);
  const rows = JSON.parse(list.stdout) as { name: string; type: string; fields: string[] }[];
  t.same(rows.map((r) => [r.name, r.type, r.fields]), [['charts', 'token', ['token']], ['git-creds', 'basic-auth', ['password', 'username']]]);
  t.notMatch(list.stdout, new RegExp(`${PASSWORD}|${TOKEN}|deploy`), 'no value is shown back');
  t.match((await drover(['secret', 'list', ...admin])).stdout, /NAME\s+TYPE\s+FIELDS[\s\S]*git-creds\s+basic-auth\s+password,username/);

  const again = await stdinCreate(['git-creds', '--type', 'basic-auth', '--username', 'deploy', '--password-stdin'], 'other');
  t.equal(again.exitCode, 1);
  t.match(String(again.stderr), /SECRET_EXISTS|exists; give --replace/);
  t.equal((await stdinCreate(['git-creds', '--type', 'basic-auth', '--username', 'deploy', '--password-stdin', '--replace'], 'rotated-pw')).exitCode, 0);

  // Usage errors: a value the type needs, a flag the type does not take, a missing file.
  const noPw = await drover(['secret', 'create', 'x', '--type', 'basic-auth', '--username', 'u', ...admin]);
  t.same([noPw.exitCode, /needs password: give --password-stdin or --password-file/.test(noPw.stderr)], [2, true], noPw.stderr);
  const wrongFlag = await drover(['secret', 'create', 'x', '--type', 'ssh', '--token-file', tokenFile, ...admin]);
  t.same([wrongFlag.exitCode, /--token-file does not apply to a ssh secret/.test(wrongFlag.stderr)], [2, true], wrongFlag.stderr);
  const noFile = await drover(['secret', 'create', 'x', '--type', 'token', '--token-file', join(dir, 'nope'), ...admin]);
  t.equal(noFile.exitCode, 2);
  const noHosts = await drover(['secret', 'create', 'x', '--type', 'ssh', '--private-key-file', tokenFile, ...admin]);
  t.equal(noHosts.exitCode, 2, 'an ssh secret without known_hosts is refused (no trust on first use)');

  t.equal((await drover(['secret', 'delete', 'charts', ...admin])).exitCode, 0);
  const gone = await drover(['secret', 'delete', 'charts', ...admin]);
  t.same([gone.exitCode, /SECRET_NOT_FOUND|no source secret named charts/.test(gone.stderr)], [1, true], gone.stderr);

  // gitrepo add names secrets; a missing one is a warning (Fleet allows the secret to come later).
  const add = await drover(['gitrepo', 'add', 'later', '--repo', 'https://127.0.0.1:1/x.git', '--client-secret', 'not-yet', '--helm-secret', 'git-creds', ...admin]);
  t.equal(add.exitCode, 0, add.stderr);
  t.match(add.stderr, /warning: --client-secret not-yet: no such secret yet/);
  t.notMatch(add.stderr, /--helm-secret git-creds/, 'an existing secret is not warned about');
  const badCa = await drover(['gitrepo', 'add', 'x', '--repo', 'https://h/x.git', '--ca-bundle-file', tokenFile, ...admin]);
  t.same([badCa.exitCode, /holds no PEM certificate/.test(badCa.stderr)], [2, true], badCa.stderr);
  const bad = await drover(['gitrepo', 'add', 'x', '--repo', 'https://h/x.git', '--helm-repo-url-regex', '(', ...admin]);
  t.equal(bad.exitCode, 2, 'a broken helmRepoURLRegex is a usage error');

  await server.proc.stop();
  const everything = server.proc.output + readFileSync(join(server.dataDir, 'audit.log'), 'utf8') + readFileSync(join(server.dataDir, 'secrets.db')).toString('latin1');
  t.notMatch(everything, new RegExp(`${PASSWORD}|${TOKEN}|rotated-pw`), 'no value in the server log, the audit log or the database file');
  t.match(server.proc.output, /source secret stored/);
});
