// The HTTP client of the admin commands (token, cluster, identity): finds the server from
// --server/--token/--ca-file (env DROVER_SERVER, DROVER_TOKEN, DROVER_CA_FILE) or, on the server
// host, from --data-dir alone (server.json + admin-token), pins the CA, and maps failures to the
// exit-code contract: 3 unreachable, 4 token rejected, 5 CA mismatch, 1 anything else.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Option, type Command } from 'commander';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { dataPaths, DEFAULT_DATA_DIR, readServerRecord } from '../server-lite/data-dir.ts';
import { BodyTooLarge, readBounded } from '../protocol/index.ts';

/** An admin request that gets no answer within this time counts as an unreachable server (exit 3). */
export const ADMIN_REQUEST_TIMEOUT_MS = 30_000;

/** The most the CLI reads of one server answer: a listing of 10,000 clusters is a few MiB; a
 *  server (or something posing as one) sending more gets the request dropped, not the CLI's memory. */
export const ADMIN_MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** The text of a server's answer, read by the one bounded reader (protocol/bounded-read.ts);
 *  past `limit` the request is dropped and the promise rejects with BodyTooLarge. */
export function readAnswer(req: ClientRequest, res: IncomingMessage, limit = ADMIN_MAX_ANSWER_BYTES): Promise<{ status: number; text: string }> {
  return readBounded(res, limit, 'the server\'s answer').then((body) => ({ status: res.statusCode ?? 0, text: body.toString('utf8') }), (err: unknown) => {
    req.destroy();
    throw err;
  });
}

/** A too-large answer as the CLI reports it (exit 1). */
export function tooLarge(err: unknown, method: string, path: string): CliError | undefined {
  return err instanceof BodyTooLarge ? new CliError(EXIT.FAILURE, `${method} ${path}: ${err.message}; refused`) : undefined;
}

export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export interface AdminOptions {
  server?: string;
  token?: string;
  caFile?: string;
  dataDir?: string;
}

export interface AdminConnection {
  url: string;
  token: string;
  ca: string | undefined;
}

/** Adds --server, --token, --ca-file, --data-dir (with env mirrors) to an admin command. */
export function addAdminOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--server <url>', 'server URL, e.g. https://drover.example:9443').env('DROVER_SERVER'))
    .addOption(new Option('--token <token>', "API token: the admin token, or a user's token (drover user token create)").env('DROVER_TOKEN'))
    .addOption(new Option('--ca-file <file>', "PEM file of the server's CA (default: system CAs)").env('DROVER_CA_FILE'))
    .addOption(
      new Option('--data-dir <dir>', `on the server host: read URL, CA and admin token from the server's data dir (default ${DEFAULT_DATA_DIR})`).env(
        'DROVER_SERVER_DATA_DIR',
      ),
    );
}

function readFileOr(path: string, what: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(EXIT.USAGE, `cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); check ${flag}`);
  }
}

const given = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v);

export function resolveConnection(raw: AdminOptions): AdminConnection {
  // An empty DROVER_SERVER= in the environment counts as unset.
  const opts: AdminOptions = {};
  for (const k of ['server', 'token', 'caFile', 'dataDir'] as const) {
    const v = given(raw[k]);
    if (v !== undefined) opts[k] = v;
  }
  if (opts.server === undefined) {
    const dir = opts.dataDir ?? DEFAULT_DATA_DIR;
    const record = readServerRecord(dir);
    if (!record) {
      throw new CliError(EXIT.USAGE, `no server record in ${dir}; give --server URL --token TOKEN, or --data-dir of a server that has started`);
    }
    const token = opts.token ?? readFileOr(dataPaths(dir).adminToken, 'admin token', '--data-dir').trim();
    return { url: record.url, token, ca: readFileOr(opts.caFile ?? record.caFile, 'CA file', '--ca-file') };
  }
  if (!/^https:\/\//.test(opts.server)) throw new CliError(EXIT.USAGE, `--server must be an https:// URL, got ${opts.server}`);
  if (opts.token === undefined) throw new CliError(EXIT.USAGE, '--token (or DROVER_TOKEN) is required with --server');
  return {
    url: opts.server.replace(/\/+$/, ''),
    token: opts.token,
    ca: opts.caFile === undefined ? undefined : readFileOr(opts.caFile, 'CA file', '--ca-file'),
  };
}

const TLS_IDENTITY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export interface AdminResponse {
  status: number;
  body: unknown;
}

/** One admin request. Error answers become CliErrors with the contract's exit codes. */
export async function adminRequest(conn: AdminConnection, method: string, path: string, json?: unknown, maxAnswerBytes = ADMIN_MAX_ANSWER_BYTES): Promise<AdminResponse> {
  const payload = json === undefined ? undefined : JSON.stringify(json);
  const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = https.request(
      `${conn.url}${path}`,
      {
        method,
        ...(conn.ca === undefined ? {} : { ca: conn.ca }),
        headers: {
          authorization: `Bearer ${conn.token}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        timeout: ADMIN_REQUEST_TIMEOUT_MS,
      },
      (r) => void readAnswer(req, r, maxAnswerBytes).then(resolve, reject),
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(payload);
  }).catch((err: NodeJS.ErrnoException) => {
    const big = tooLarge(err, method, path);
    if (big) throw big;
    if (err.code !== undefined && TLS_IDENTITY_CODES.has(err.code)) {
      throw new CliError(EXIT.CA_MISMATCH, `${conn.url} presented a certificate the CA does not vouch for (${err.code}); check --ca-file`);
    }
    throw new CliError(EXIT.SERVER_UNREACHABLE, `cannot reach ${conn.url}: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '));
  });
  let body: unknown = undefined;
  if (res.text.length > 0) {
    try {
      body = JSON.parse(res.text);
    } catch {
      body = res.text;
    }
  }
  if (res.status >= 400) {
    const err = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    const what = err ? `${err.code ?? 'ERROR'}: ${err.message ?? ''}` : `HTTP ${res.status}`;
    const code = res.status === 401 || res.status === 403 ? EXIT.CREDENTIAL_REJECTED : EXIT.FAILURE;
    throw new CliError(code, `server refused ${method} ${path}: ${what}`);
  }
  return { status: res.status, body };
}

/** Runs a command action, printing CliErrors as `drover: …` and setting the exit code. */
export function withExitCodes<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      process.stderr.write(`drover: ${err.message}\n`);
      process.exitCode = err.exitCode;
    }
  };
}

/** Reads all of stdin (for --password-stdin), without the trailing newline. Bounded: 64 KiB. */
export async function readStdin(limit = 64 * 1024): Promise<string> {
  const text = await readBounded(process.stdin, limit).catch((err: unknown) => {
    throw err instanceof BodyTooLarge ? new CliError(EXIT.USAGE, 'stdin is too large for a password') : err;
  });
  return text.toString('utf8').replace(/\r?\n$/, '');
}

/** The caller's own identity (GET /v1/whoami). */
export async function whoami(conn: AdminConnection): Promise<{ user: string; idp: string; globalRole: string }> {
  return (await adminRequest(conn, 'GET', '/v1/whoami')).body as { user: string; idp: string; globalRole: string };
}
