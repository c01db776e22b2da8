// `drover secret create|list|delete` (ARCHITECTURE.md §3, issue 19): source credentials stored
// sealed on the server and referred to by name (a gitrepo's clientSecretName / helmSecretName).
// Secret values are read from stdin or files only, never from argv, where `ps` and shell
// history would show them; only the user name may be given as a flag.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { addAdminOptions, adminRequest, CliError, readStdin, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { table } from './token.ts';
import { SECRET_FIELDS, SECRET_TYPES, secretProblem, type SecretSummary, type SecretType } from '../../server-lite/secrets-store/source-secret.ts';

interface CreateOptions extends AdminOptions {
  type: SecretType;
  username?: string;
  passwordStdin?: boolean;
  passwordFile?: string;
  tokenStdin?: boolean;
  tokenFile?: string;
  privateKeyFile?: string;
  knownHostsFile?: string;
  caBundleFile?: string;
  certFile?: string;
  keyFile?: string;
  replace?: boolean;
}

function readFileFlag(flag: string, path: string): string {
  try {
    const text = readFileSync(path, 'utf8');
    if (Buffer.byteLength(text) > 64 * 1024) throw new Error('larger than 64 KiB');
    return text;
  } catch (err) {
    throw new CliError(EXIT.USAGE, `${flag} ${path}: ${(err as Error).message}`);
  }
}

/** The secret's fields from the flags (pure but for reading the named files and stdin). */
export async function secretData(o: CreateOptions, stdin: () => Promise<string> = () => readStdin()): Promise<Record<string, string>> {
  const data: Record<string, string> = {};
  const fromStdin = [o.passwordStdin ? '--password-stdin' : '', o.tokenStdin ? '--token-stdin' : ''].filter(Boolean);
  if (fromStdin.length > 1) throw new CliError(EXIT.USAGE, 'only one value can come from stdin; give the other as a file');
  const allowed = new Set([...SECRET_FIELDS[o.type].required, ...SECRET_FIELDS[o.type].optional]);
  const put = async (field: string, flag: string, value: () => Promise<string> | string): Promise<void> => {
    if (!allowed.has(field)) throw new CliError(EXIT.USAGE, `${flag} does not apply to a ${o.type} secret (it has ${[...allowed].join(', ')})`);
    data[field] = await value();
  };
  if (o.username !== undefined) await put('username', '--username', () => o.username ?? '');
  if (o.passwordStdin && o.passwordFile) throw new CliError(EXIT.USAGE, 'give --password-stdin or --password-file, not both');
  if (o.tokenStdin && o.tokenFile) throw new CliError(EXIT.USAGE, 'give --token-stdin or --token-file, not both');
  if (o.passwordStdin) await put('password', '--password-stdin', stdin);
  if (o.passwordFile) await put('password', '--password-file', () => readFileFlag('--password-file', o.passwordFile ?? '').replace(/\r?\n$/, ''));
  if (o.tokenStdin) await put('token', '--token-stdin', stdin);
  if (o.tokenFile) await put('token', '--token-file', () => readFileFlag('--token-file', o.tokenFile ?? '').replace(/\r?\n$/, ''));
  if (o.privateKeyFile) await put('privateKey', '--private-key-file', () => readFileFlag('--private-key-file', o.privateKeyFile ?? ''));
  if (o.knownHostsFile) await put('knownHosts', '--known-hosts-file', () => readFileFlag('--known-hosts-file', o.knownHostsFile ?? ''));
  if (o.caBundleFile) await put('caBundle', '--ca-bundle-file', () => readFileFlag('--ca-bundle-file', o.caBundleFile ?? ''));
  if (o.certFile) await put('cert', '--cert-file', () => readFileFlag('--cert-file', o.certFile ?? ''));
  if (o.keyFile) await put('key', '--key-file', () => readFileFlag('--key-file', o.keyFile ?? ''));
  return data;
}

const FLAG_OF: Record<string, string> = {
  username: '--username', password: '--password-stdin or --password-file', token: '--token-stdin or --token-file',
  privateKey: '--private-key-file', knownHosts: '--known-hosts-file (e.g. from ssh-keyscan, checked by you)', caBundle: '--ca-bundle-file', cert: '--cert-file', key: '--key-file',
};

export function registerSecret(program: Command): void {
  const secret = program
    .command('secret')
    .description('credentials for private git repositories, Helm repositories and OCI registries, stored encrypted on the server (admin)')
    .addHelpText('after', '\nExample:\n  printf %s "$GIT_TOKEN" | drover secret create git-creds --type basic-auth --username deploy --password-stdin\n  drover gitrepo add apps --repo https://git.example.com/ops/apps.git --client-secret git-creds');

  addAdminOptions(
    secret
      .command('create')
      .argument('<name>', 'secret name (what gitrepos refer to)')
      .description('store a secret; values come from stdin or files, never from flags')
      .addOption(new Option('--type <type>', 'basic-auth (user + password), token, ssh (private key + known_hosts) or tls (CA / client certificate)').choices([...SECRET_TYPES]).makeOptionMandatory())
      .addOption(new Option('--username <name>', 'user name (basic-auth; token, default "token")'))
      .addOption(new Option('--password-stdin', 'read the password from stdin (basic-auth)'))
      .addOption(new Option('--password-file <file>', 'read the password from a file (basic-auth)'))
      .addOption(new Option('--token-stdin', 'read the token from stdin (token)'))
      .addOption(new Option('--token-file <file>', 'read the token from a file (token)'))
      .addOption(new Option('--private-key-file <file>', 'SSH private key, OpenSSH or PEM, without a passphrase (ssh)'))
      .addOption(new Option('--known-hosts-file <file>', "known_hosts lines the git server's host key must match (ssh; required: Drover never trusts a key on first use)"))
      .addOption(new Option('--ca-bundle-file <file>', "PEM CA bundle the server's certificate is checked against (basic-auth, token, tls)"))
      .addOption(new Option('--cert-file <file>', 'client certificate, PEM (tls)'))
      .addOption(new Option('--key-file <file>', 'client certificate key, PEM (tls)'))
      .addOption(new Option('--replace', 'replace an existing secret of that name (rotation; used from the next fetch, no restart)'))
      .addHelpText('after', '\nExamples:\n  printf %s "$PASSWORD" | drover secret create git-creds --type basic-auth --username deploy --password-stdin\n  drover secret create git-ssh --type ssh --private-key-file ~/.ssh/deploy_ed25519 --known-hosts-file known_hosts\n  drover secret create charts --type token --token-file token.txt --ca-bundle-file ca.pem'),
  ).action(
    withExitCodes(async (name: string, opts: CreateOptions) => {
      const data = await secretData(opts);
      const problem = secretProblem({ name, type: opts.type, data });
      if (problem) {
        const missing = /needs (\w+)/.exec(problem)?.[1];
        throw new CliError(EXIT.USAGE, missing && FLAG_OF[missing] ? `${problem}: give ${FLAG_OF[missing]}` : problem);
      }
      await adminRequest(resolveConnection(opts), 'POST', '/v1/secrets', { name, type: opts.type, data, ...(opts.replace ? { replace: true } : {}) });
      process.stdout.write(`secret ${name} (${opts.type}): ${opts.replace ? 'stored (replaced)' : 'stored'}\n`);
    }),
  );

  addAdminOptions(
    secret
      .command('list')
      .description('list secrets: names, types and which fields are set (never values)')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover secret list --json'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const rows = (await adminRequest(resolveConnection(opts), 'GET', '/v1/secrets')).body as SecretSummary[];
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const lines = [['NAME', 'TYPE', 'FIELDS', 'UPDATED']];
      for (const r of rows) lines.push([r.name, r.type, r.fields.join(',') || '-', new Date(r.updatedAt).toISOString()]);
      process.stdout.write(table(lines));
    }),
  );

  addAdminOptions(
    secret
      .command('delete')
      .argument('<name>', 'secret name')
      .description('delete a secret; gitrepos that name it fail with GIT_CREDENTIALS_MISSING until it is created again')
      .addHelpText('after', '\nExample:\n  drover secret delete git-creds'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions) => {
      await adminRequest(resolveConnection(opts), 'DELETE', `/v1/secrets/${encodeURIComponent(name)}`);
      process.stdout.write(`deleted secret ${name}\n`);
    }),
  );
}
