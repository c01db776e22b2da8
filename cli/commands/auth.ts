// `drover auth provider add ldap|oidc NAME …`, `drover auth provider list [--json]`, `drover auth
// provider remove NAME` (issue 18; docs/identity.md). Secrets (the LDAP bind password, the OIDC
// client secret) come from stdin or a file, never from argv (visible in `ps` and shell history);
// the server stores them sealed and never shows them again.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { durationSeconds } from '../duration.ts';
import { EXIT } from '../exit-codes.ts';
import { addAdminOptions, adminRequest, CliError, readStdin, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { table } from './token.ts';

interface ProviderRow {
  name: string;
  kind: 'ldap' | 'oidc';
  config: Record<string, unknown>;
  createdAt: string;
}

type SecretOpts = { secretStdin?: boolean; secretFile?: string; providerCaFile?: string; groupTtl: string };

function readFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(EXIT.USAGE, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); check ${flag}`);
  }
}

async function secretFrom(opts: SecretOpts, what: string, flags: [string, string]): Promise<string> {
  if (opts.secretStdin === true && opts.secretFile !== undefined) throw new CliError(EXIT.USAGE, `give either ${flags[0]} or ${flags[1]}, not both`);
  const secret = opts.secretFile !== undefined ? readFile(opts.secretFile, flags[1]).replace(/\r?\n$/, '') : opts.secretStdin ? await readStdin() : undefined;
  if (secret === undefined) throw new CliError(EXIT.USAGE, `the ${what} is required: ${flags[0]} (from stdin) or ${flags[1]} FILE`);
  if (secret === '') throw new CliError(EXIT.USAGE, `the ${what} is empty`);
  return secret;
}

function ttl(text: string): number {
  const s = durationSeconds(text, { bareSeconds: true });
  if (s === undefined || s < 1 || s > 7 * 86400) throw new CliError(EXIT.USAGE, `--group-ttl must be a duration from 1s to 7d, got ${text}`);
  return s;
}

const common = (cmd: Command, secretFlag: string, secretWhat: string): Command =>
  addAdminOptions(
    cmd
      .argument('<name>', 'provider name: lowercase letters, digits and -; users become NAME:LOGIN, groups NAME:GROUP')
      .addOption(new Option(`--${secretFlag}-stdin`, `read the ${secretWhat} from stdin`))
      .addOption(new Option(`--${secretFlag}-file <file>`, `read the ${secretWhat} from a file`))
      .addOption(new Option('--provider-ca-file <file>', "PEM of the CA that signs the provider's certificate (default: system CAs)").env('DROVER_PROVIDER_CA_FILE'))
      .addOption(new Option('--group-ttl <duration>', 'how long group membership is trusted before it is read again').env('DROVER_GROUP_TTL').default('15m')),
  );

export function registerAuth(program: Command): void {
  const auth = program
    .command('auth')
    .description('identity providers (LDAP, OIDC) for user logins (admin)')
    .addHelpText('after', '\nExample:\n  drover auth provider list');
  const provider = auth
    .command('provider')
    .description('add, list and remove identity providers')
    .addHelpText('after', '\nExample:\n  drover auth provider list --json --data-dir /var/lib/drover/server');
  const add = provider
    .command('add')
    .description('add an identity provider (admin)')
    .addHelpText('after', '\nExample:\n  drover auth provider add oidc sso --issuer https://dex.corp/dex --client-id drover --client-secret-file secret.txt');

  common(add.command('ldap').description('add an LDAP directory: users log in with drover login --provider NAME'), 'bind-password', 'service account password')
    .addOption(new Option('--url <url>', 'ldaps://HOST[:PORT], or ldap://HOST[:PORT] with --start-tls').env('DROVER_LDAP_URL').makeOptionMandatory())
    .addOption(new Option('--start-tls', 'upgrade ldap:// with StartTLS before sending anything').env('DROVER_START_TLS'))
    .addOption(new Option('--bind-dn <dn>', 'service account that searches users and groups').env('DROVER_BIND_DN').makeOptionMandatory())
    .addOption(new Option('--user-base <dn>', 'where users are searched').env('DROVER_USER_BASE').makeOptionMandatory())
    .addOption(new Option('--user-attribute <attr>', 'attribute users log in with').env('DROVER_USER_ATTRIBUTE').default('uid'))
    .addOption(new Option('--user-filter <filter>', 'extra filter for users, e.g. (objectClass=inetOrgPerson)').env('DROVER_USER_FILTER'))
    .addOption(new Option('--group-base <dn>', 'where groups are searched').env('DROVER_GROUP_BASE').makeOptionMandatory())
    .addOption(new Option('--group-member-attribute <attr>', "group attribute holding members' DNs").env('DROVER_GROUP_MEMBER_ATTRIBUTE').default('member'))
    .addOption(new Option('--group-name-attribute <attr>', "group attribute holding the group's name").env('DROVER_GROUP_NAME_ATTRIBUTE').default('cn'))
    .addOption(new Option('--group-filter <filter>', 'extra filter for groups, e.g. (objectClass=groupOfNames)').env('DROVER_GROUP_FILTER'))
    .addHelpText(
      'after',
      '\nExample:\n  drover auth provider add ldap corp --url ldaps://ldap.corp:636 --provider-ca-file corp-ca.pem \\\n    --bind-dn cn=drover,dc=corp --bind-password-file bind.pw --user-base ou=people,dc=corp --group-base ou=groups,dc=corp',
    )
    .action(
      withExitCodes(async (name: string, o: AdminOptions & SecretOpts & Record<string, string | boolean | undefined> & { bindPasswordStdin?: boolean; bindPasswordFile?: string }) => {
        const secret = await secretFrom({ ...o, secretStdin: o.bindPasswordStdin, secretFile: o.bindPasswordFile }, 'bind password', ['--bind-password-stdin', '--bind-password-file']);
        const config = {
          kind: 'ldap',
          url: o.url,
          startTls: o.startTls === true,
          caPem: o.providerCaFile === undefined ? null : readFile(o.providerCaFile, '--provider-ca-file'),
          bindDn: o.bindDn,
          userBase: o.userBase,
          userAttribute: o.userAttribute,
          userFilter: o.userFilter ?? null,
          groupBase: o.groupBase,
          groupMemberAttribute: o.groupMemberAttribute,
          groupNameAttribute: o.groupNameAttribute,
          groupFilter: o.groupFilter ?? null,
          groupTtlSeconds: ttl(o.groupTtl),
        };
        await adminRequest(resolveConnection(o), 'POST', '/v1/auth/providers', { name, config, secret }).catch(usage);
        process.stderr.write(`identity provider ${name} (ldap) added\n`);
      }),
    );

  common(add.command('oidc').description('add an OpenID Connect provider: users log in with drover login --provider NAME (browser)'), 'client-secret', 'client secret')
    .addOption(new Option('--issuer <url>', 'https:// issuer URL (its /.well-known/openid-configuration is read)').env('DROVER_OIDC_ISSUER').makeOptionMandatory())
    .addOption(new Option('--client-id <id>', "Drover's client id at the provider").env('DROVER_OIDC_CLIENT_ID').makeOptionMandatory())
    .addOption(new Option('--scopes <list>', 'scopes asked for, comma-separated (openid is always added)').env('DROVER_SCOPES').default('email,profile,groups,offline_access'))
    .addOption(new Option('--username-claim <claim>', 'ID token claim naming the user').env('DROVER_USERNAME_CLAIM').default('email'))
    .addOption(new Option('--groups-claim <claim>', 'ID token claim listing the groups').env('DROVER_GROUPS_CLAIM').default('groups'))
    .addHelpText(
      'after',
      '\nExample:\n  printf %s "$SECRET" | drover auth provider add oidc sso --issuer https://dex.corp/dex --client-id drover --client-secret-stdin',
    )
    .action(
      withExitCodes(async (name: string, o: AdminOptions & SecretOpts & Record<string, string | boolean | undefined> & { clientSecretStdin?: boolean; clientSecretFile?: string }) => {
        const secret = await secretFrom({ ...o, secretStdin: o.clientSecretStdin, secretFile: o.clientSecretFile }, 'client secret', ['--client-secret-stdin', '--client-secret-file']);
        const config = {
          kind: 'oidc',
          issuer: o.issuer,
          clientId: o.clientId,
          caPem: o.providerCaFile === undefined ? null : readFile(o.providerCaFile, '--provider-ca-file'),
          scopes: String(o.scopes).split(',').map((s) => s.trim()).filter((s) => s !== ''),
          usernameClaim: o.usernameClaim,
          groupsClaim: o.groupsClaim,
          groupTtlSeconds: ttl(o.groupTtl),
        };
        await adminRequest(resolveConnection(o), 'POST', '/v1/auth/providers', { name, config, secret }).catch(usage);
        process.stderr.write(`identity provider ${name} (oidc) added\n`);
      }),
    );

  addAdminOptions(
    provider
      .command('list')
      .description('list identity providers (admin)')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover auth provider list'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const rows = (await adminRequest(resolveConnection(opts), 'GET', '/v1/auth/providers')).body as ProviderRow[];
      if (opts.json) return void process.stdout.write(`${JSON.stringify(rows)}\n`);
      const where = (r: ProviderRow): string => String(r.kind === 'ldap' ? r.config.url : r.config.issuer);
      process.stdout.write(table([['NAME', 'KIND', 'ENDPOINT', 'GROUP TTL', 'CREATED'], ...rows.map((r) => [r.name, r.kind, where(r), `${String(r.config.groupTtlSeconds)}s`, r.createdAt])]));
    }),
  );

  addAdminOptions(
    provider
      .command('remove')
      .description("remove an identity provider: its users lose their tokens and roles at once (admin)")
      .argument('<name>', 'provider name')
      .addHelpText('after', '\nExample:\n  drover auth provider remove corp'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions) => {
      await adminRequest(resolveConnection(opts), 'DELETE', `/v1/auth/providers/${encodeURIComponent(name)}`);
      process.stderr.write(`identity provider ${name} removed\n`);
    }),
  );
}

/** A configuration the server refused (400) is the caller's usage error: exit 2. */
function usage(err: unknown): never {
  if (err instanceof CliError && err.exitCode === EXIT.FAILURE && /INVALID_REQUEST|PROVIDER_EXISTS/.test(err.message)) throw new CliError(EXIT.USAGE, err.message);
  throw err;
}
