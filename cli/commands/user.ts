// `drover user create|list|delete` and `drover user token create|list|revoke` (issue 5). Users
// authenticate with API tokens; `token create` prints only the token, so
// `TOKEN=$(drover user token create alice)` works in scripts.
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { addAdminOptions, adminRequest, CliError, readStdin, resolveConnection, whoami, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { parseDuration, table } from './token.ts';

interface UserRow {
  name: string;
  globalRole: string;
  hasPassword: boolean;
  createdAt: string;
}

interface UserTokenRow {
  id: string;
  user: string;
  description: string;
  state: string;
  createdAt: string;
  expiresAt: string | null;
}

const json = () => new Option('--json', 'print JSON').env('DROVER_JSON');
const enc = encodeURIComponent;

export function registerUser(program: Command): void {
  const user = program
    .command('user')
    .description('local users and their API tokens')
    .addHelpText('after', '\nExample:\n  echo "$PASSWORD" | drover user create alice --password-stdin --data-dir /var/lib/drover/server');

  addAdminOptions(
    user
      .command('create')
      .description('create a local user (admin)')
      .argument('<name>', 'user name: lowercase letters, digits, . _ -')
      .addOption(new Option('--password-stdin', 'read the password (8+ characters) from stdin; without it the user logs in with API tokens only').env('DROVER_PASSWORD_STDIN'))
      .addOption(new Option('--global-role <role>', 'global role').choices(['admin', 'user']).default('user').env('DROVER_GLOBAL_ROLE'))
      .addHelpText('after', '\nExample:\n  echo "s3cret-pass" | drover user create alice --password-stdin --global-role user'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions & { passwordStdin?: boolean; globalRole: string }) => {
      const body: Record<string, string> = { name, globalRole: opts.globalRole };
      if (opts.passwordStdin) body.password = await readStdin();
      const res = await adminRequest(resolveConnection(opts), 'POST', '/v1/users', body);
      const u = res.body as UserRow;
      process.stdout.write(`${u.name}\n`);
    }),
  );

  addAdminOptions(
    user.command('list').description('list users (admin)').addOption(json()).addHelpText('after', '\nExample:\n  drover user list --json'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const rows = (await adminRequest(resolveConnection(opts), 'GET', '/v1/users')).body as UserRow[];
      if (opts.json) return void process.stdout.write(`${JSON.stringify(rows)}\n`);
      process.stdout.write(table([['NAME', 'GLOBAL ROLE', 'PASSWORD', 'CREATED'], ...rows.map((u) => [u.name, u.globalRole, u.hasPassword ? 'yes' : 'no', u.createdAt])]));
    }),
  );

  addAdminOptions(
    user.command('delete').description('delete a user, their tokens and role bindings (admin)').argument('<name>').addHelpText('after', '\nExample:\n  drover user delete alice'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions) => {
      await adminRequest(resolveConnection(opts), 'DELETE', `/v1/users/${enc(name)}`);
    }),
  );

  user
    .command('login')
    .description('exchange a user name and password (from stdin) for an API token; prints only the token')
    .argument('<name>', 'user name')
    .addOption(new Option('--server <url>', 'server URL, e.g. https://drover.example:9443').env('DROVER_SERVER').makeOptionMandatory())
    .addOption(new Option('--ca-file <file>', "PEM file of the server's CA (default: system CAs)").env('DROVER_CA_FILE'))
    .addOption(new Option('--ttl <duration>', 'lifetime of the token (default 30d)').env('DROVER_TTL'))
    .addHelpText('after', '\nExample:\n  echo "$PASSWORD" | drover user login alice --server https://drover.example:9443 --ca-file ca.crt')
    .action(
      withExitCodes(async (name: string, opts: { server: string; caFile?: string; ttl?: string }) => {
        const password = await readStdin();
        // The login endpoint needs no token; the placeholder is never sent as a credential that works.
        const conn = resolveConnection({ server: opts.server, token: '-', ...(opts.caFile ? { caFile: opts.caFile } : {}) });
        const body: Record<string, unknown> = { username: name, password };
        if (opts.ttl !== undefined) body.ttlSeconds = parseDuration(opts.ttl);
        const res = await adminRequest(conn, 'POST', '/v1/login', body);
        process.stdout.write(`${(res.body as { token: string }).token}\n`);
      }),
    );

  const token = user
    .command('token')
    .description("a user's API tokens (stored hashed; expiring; revocable)")
    .addHelpText('after', '\nExample:\n  drover user token create alice --ttl 7d');

  addAdminOptions(
    token
      .command('create')
      .description('mint an API token and print only it (an admin for anyone, a user for themself)')
      .argument('[user]', 'user name (default: the caller)')
      .addOption(new Option('--ttl <duration>', 'lifetime: 30m, 24h, 7d, or 0 for never (default 30d)').env('DROVER_TTL'))
      .addOption(new Option('--description <text>', 'what the token is for').env('DROVER_DESCRIPTION'))
      .addHelpText('after', '\nExample:\n  TOKEN=$(drover user token create alice --ttl 24h --description ci)'),
  ).action(
    withExitCodes(async (name: string | undefined, opts: AdminOptions & { ttl?: string; description?: string }) => {
      const conn = resolveConnection(opts);
      const who = name ?? (await whoami(conn)).user;
      const body: Record<string, unknown> = {};
      if (opts.ttl !== undefined) body.ttlSeconds = parseDuration(opts.ttl);
      if (opts.description !== undefined) body.description = opts.description;
      const res = await adminRequest(conn, 'POST', `/v1/users/${enc(who)}/tokens`, body);
      process.stdout.write(`${(res.body as { token: string }).token}\n`);
    }),
  );

  addAdminOptions(
    token
      .command('list')
      .description("list a user's API tokens (never their secrets)")
      .argument('[user]', 'user name (default: the caller)')
      .addOption(json())
      .addHelpText('after', '\nExample:\n  drover user token list alice --json'),
  ).action(
    withExitCodes(async (name: string | undefined, opts: AdminOptions & { json?: boolean }) => {
      const conn = resolveConnection(opts);
      const who = name ?? (await whoami(conn)).user;
      const rows = (await adminRequest(conn, 'GET', `/v1/users/${enc(who)}/tokens`)).body as UserTokenRow[];
      if (opts.json) return void process.stdout.write(`${JSON.stringify(rows)}\n`);
      process.stdout.write(table([['ID', 'STATE', 'EXPIRES', 'DESCRIPTION'], ...rows.map((t) => [t.id, t.state, t.expiresAt ?? 'never', t.description || '-'])]));
    }),
  );

  addAdminOptions(
    token
      .command('revoke')
      .description('revoke an API token at once')
      .argument('<id>', 'token id (t-…)')
      .addOption(new Option('--user <name>', 'owner of the token (default: the caller)').env('DROVER_USER'))
      .addHelpText('after', '\nExample:\n  drover user token revoke t-abcdefghij --user alice'),
  ).action(
    withExitCodes(async (id: string, opts: AdminOptions & { user?: string }) => {
      const conn = resolveConnection(opts);
      if (!/^t-[a-z2-7]{10}$/.test(id)) throw new CliError(EXIT.USAGE, `token ids look like t-abcdefghij (got ${id})`);
      const who = opts.user ?? (await whoami(conn)).user;
      await adminRequest(conn, 'DELETE', `/v1/users/${enc(who)}/tokens/${enc(id)}`);
    }),
  );
}
