// `drover login [--provider NAME]` (issue 18): gets a Drover API token as a person, and stores it
// (0600) in ~/.config/drover/token (or --token-file). Local users and LDAP providers: a user name
// and a password, the password from stdin (--password-stdin) or a prompt that does not echo, never
// from argv. OIDC providers: a loopback redirect (RFC 8252 §7.3): a listener on
// 127.0.0.1:--callback-port, the provider's URL printed for a browser, the code that comes back
// handed to the server, which exchanges it with its client secret and PKCE verifier.
import { createServer, type Server } from 'node:http';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { adminRequest, CliError, readStdin, resolveConnection, withExitCodes, type AdminConnection } from '../admin-client.ts';
import { parseDuration } from './token.ts';
import { DEFAULT_DATA_DIR } from '../../server-lite/data-dir.ts';

export const DEFAULT_CALLBACK_PORT = 8250;
/** How long the CLI waits for the browser to come back from the provider. */
export const LOGIN_WAIT_MS = 5 * 60_000;

interface LoginOpts {
  server?: string;
  caFile?: string;
  dataDir?: string;
  provider?: string;
  username?: string;
  passwordStdin?: boolean;
  callbackPort: string;
  ttl?: string;
  tokenFile?: string;
  print?: boolean;
}

interface Minted {
  token: string;
  user: string;
  groups?: string[];
  expiresAt: string | null;
}

export const defaultTokenFile = (env: NodeJS.ProcessEnv = process.env): string =>
  join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'drover', 'token');

/** No token yet: the connection carries none (login endpoints do not authenticate). */
function connection(o: LoginOpts): AdminConnection {
  const conn = resolveConnection({ ...(o.server ? { server: o.server, token: '-' } : {}), ...(o.caFile ? { caFile: o.caFile } : {}), ...(o.dataDir ? { dataDir: o.dataDir } : {}) });
  return { ...conn, token: '' };
}

async function promptHidden(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new CliError(EXIT.USAGE, 'no terminal to ask for the password: pipe it with --password-stdin');
  let muted = false;
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output: out, terminal: true });
  const answer = new Promise<string>((resolve) => rl.question(question, resolve));
  muted = true;
  const value = await answer;
  rl.close();
  process.stderr.write('\n');
  return value;
}

async function usernameAndPassword(o: LoginOpts): Promise<{ username: string; password: string }> {
  if (!o.username) throw new CliError(EXIT.USAGE, '--username is required for a password login');
  const password = o.passwordStdin ? await readStdin() : await promptHidden(`password for ${o.username}: `);
  if (password === '') throw new CliError(EXIT.USAGE, 'the password is empty');
  return { username: o.username, password };
}

/** Waits for the provider's redirect on the loopback listener; resolves with the code. */
function waitForCode(server: Server, state: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new CliError(EXIT.FAILURE, `no answer from the browser within ${LOGIN_WAIT_MS / 60_000} minutes; run drover login again`)), LOGIN_WAIT_MS);
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== '/callback') {
        res.writeHead(404).end();
        return;
      }
      const done = (status: number, text: string): void => void res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
      // Another state is not ours (a stale tab, or someone else's login): ignore it, keep waiting.
      if (url.searchParams.get('state') !== state) return done(400, 'This is not the login Drover is waiting for.');
      clearTimeout(timer);
      const error = url.searchParams.get('error');
      const code = url.searchParams.get('code');
      if (error || !code) {
        done(400, `The identity provider refused the login: ${error ?? 'no code'}. You may close this window.`);
        reject(new CliError(EXIT.CREDENTIAL_REJECTED, `the identity provider refused the login: ${(error ?? 'no code').slice(0, 100)} ${(url.searchParams.get('error_description') ?? '').slice(0, 200)}`.trim()));
        return;
      }
      done(200, 'Logged in to Drover. You may close this window.');
      resolve(code);
    });
  });
}

async function oidcLogin(conn: AdminConnection, provider: string, o: LoginOpts, ttlSeconds: number | undefined): Promise<Minted> {
  const port = Number(o.callbackPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CliError(EXIT.USAGE, `--callback-port must be a port number, got ${o.callbackPort}`);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new CliError(EXIT.USAGE, `cannot listen on 127.0.0.1:${port} (${err.code ?? err.message}); choose another --callback-port registered at the provider`)));
    server.listen(port, '127.0.0.1', () => resolve());
  });
  try {
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    const started = (await adminRequest(conn, 'POST', `/v1/auth/providers/${encodeURIComponent(provider)}/authorize`, { redirectUri })).body as { authorizationUrl: string; state: string };
    process.stderr.write(`Open this URL in a browser to log in with ${provider}:\n\n  ${started.authorizationUrl}\n\nwaiting for the browser on ${redirectUri} …\n`);
    const code = await waitForCode(server, started.state);
    const body: Record<string, unknown> = { state: started.state, code };
    if (ttlSeconds !== undefined) body.ttlSeconds = ttlSeconds;
    return (await adminRequest(conn, 'POST', `/v1/auth/providers/${encodeURIComponent(provider)}/token`, body)).body as Minted;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

function store(file: string, token: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(`${file}.tmp`, `${token}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('log in as a person (local user, LDAP or OIDC provider) and store a Drover API token')
    .addOption(new Option('--server <url>', 'server URL').env('DROVER_SERVER'))
    .addOption(new Option('--ca-file <file>', "PEM file of the server's CA").env('DROVER_CA_FILE'))
    .addOption(new Option('--data-dir <dir>', `on the server host: read URL and CA from the server's data dir (default ${DEFAULT_DATA_DIR})`).env('DROVER_SERVER_DATA_DIR'))
    .addOption(new Option('--provider <name>', 'identity provider (see drover auth provider list); default: a local user').env('DROVER_PROVIDER'))
    .addOption(new Option('--username <name>', 'user name (local users and LDAP providers)').env('DROVER_USERNAME'))
    .addOption(new Option('--password-stdin', 'read the password from stdin instead of asking').env('DROVER_PASSWORD_STDIN'))
    .addOption(new Option('--callback-port <port>', 'OIDC: loopback port the provider redirects to (http://127.0.0.1:PORT/callback must be registered there)').default(String(DEFAULT_CALLBACK_PORT)).env('DROVER_CALLBACK_PORT'))
    .addOption(new Option('--ttl <duration>', 'lifetime of the token (default 30d)').env('DROVER_TTL'))
    .addOption(new Option('--token-file <file>', `where to store the token (default ${defaultTokenFile()})`).env('DROVER_TOKEN_FILE'))
    .addOption(new Option('--print', 'also print the token on stdout (for DROVER_TOKEN=$(…))').env('DROVER_PRINT'))
    .addHelpText(
      'after',
      '\nExamples:\n  drover login --server https://drover.corp:9443 --provider sso\n  printf %s "$PW" | drover login --provider corp --username alice --password-stdin --print',
    )
    .action(
      withExitCodes(async (o: LoginOpts) => {
        const conn = connection(o);
        const ttlSeconds = o.ttl === undefined ? undefined : parseDuration(o.ttl);
        let minted: Minted;
        if (o.provider === undefined) {
          const creds = await usernameAndPassword(o);
          minted = { ...((await adminRequest(conn, 'POST', '/v1/login', { ...creds, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) })).body as Minted), user: creds.username };
        } else {
          const options = (await adminRequest(conn, 'GET', '/v1/auth/login-options')).body as { providers: { name: string; kind: string }[] };
          const kind = options.providers.find((p) => p.name === o.provider)?.kind;
          if (!kind) throw new CliError(EXIT.USAGE, `no identity provider ${o.provider} on ${conn.url} (it has: ${options.providers.map((p) => p.name).join(', ') || 'none'})`);
          if (kind === 'ldap') {
            const creds = await usernameAndPassword(o);
            const path = `/v1/auth/providers/${encodeURIComponent(o.provider)}/login`;
            minted = (await adminRequest(conn, 'POST', path, { ...creds, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) })).body as Minted;
          } else {
            minted = await oidcLogin(conn, o.provider, o, ttlSeconds);
          }
        }
        const file = o.tokenFile ?? defaultTokenFile();
        store(file, minted.token);
        const groups = minted.groups && minted.groups.length > 0 ? ` (groups: ${minted.groups.join(', ')})` : '';
        process.stderr.write(`logged in as ${minted.user}${groups}; token stored in ${file}${minted.expiresAt ? `, expires ${minted.expiresAt}` : ''}\n`);
        if (o.print) process.stdout.write(`${minted.token}\n`);
      }),
    );
}
