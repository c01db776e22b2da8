// Starts Debian's PostgreSQL for a test (issue 17): initdb into a temp directory, one postmaster
// listening on a free loopback port and on a unix socket inside that directory, password
// (scram-sha-256) authentication for the role `drover`. PostgreSQL refuses to run as root, so
// when the test runs as root the server runs as the `postgres` user the Debian package creates
// (or `nobody`). halt()/start()/restart() keep the data for fault tests; stop() removes it all.
// Debian's binaries live under /usr/lib/postgresql/<major>/bin (not on PATH); DROVER_PG_BIN
// points elsewhere.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePorts } from '../k8s/ports.ts';

export interface Postgres {
  /** The temp directory (data in data/, socket and log beside it). */
  dir: string;
  port: number;
  /** The unix socket directory (a libpq `host=` value). */
  socketDir: string;
  user: string;
  password: string;
  /** postgres://drover:…@127.0.0.1:PORT/drover — the default database, owned by `drover`. */
  url: string;
  /** A new empty database owned by `drover` (one per test keeps tests independent); its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Shuts the server down, keeping the data ('fast': clients disconnected; 'immediate': no checkpoint, like a crash). */
  halt(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>;
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** Stops the server and removes the directory. */
  stop(): Promise<void>;
}

export function postgresBinDir(): string {
  const fromEnv = process.env.DROVER_PG_BIN;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const m of majors) if (existsSync(join(root, m, 'bin', 'postgres'))) return join(root, m, 'bin');
  throw new Error('PostgreSQL not found under /usr/lib/postgresql/*/bin: install the Debian package `postgresql` (.ci/apt-packages.txt) or set DROVER_PG_BIN');
}

/** The uid/gid to run as: ourselves when not root, else the `postgres` (or `nobody`) user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      // try the next one
    }
  }
  throw new Error('running as root and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as');
}

const USER = 'drover';
const PASSWORD = 'drover-test-pw-1';

/** Servers still running when the test process exits are stopped (a crashed test leaves no postmaster). */
const running = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGQUIT');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBinDir();
  const owner = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'drover-pg-'));
  dirs.add(dir);
  const dataDir = join(dir, 'data');
  const pwFile = join(dir, 'pw');
  writeFileSync(pwFile, PASSWORD + '\n', { mode: 0o600 });
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(pwFile, owner.uid, owner.gid);
  }
  const ids = owner ? { uid: owner.uid, gid: owner.gid } : {};
  // HOME: initdb/postgres look up nothing there, but a root HOME they cannot read makes noise.
  const env = { ...process.env, HOME: dir, LC_ALL: 'C', LANG: 'C' };
  try {
    execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', USER, '--pwfile', pwFile, '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
      ...ids,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: Buffer };
    throw new Error(`initdb failed: ${e.stderr?.toString() ?? String(err)}`);
  }
  rmSync(pwFile);
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');

  let child: ChildProcess | undefined;
  let out = '';
  const keep = (b: Buffer): void => void (out = (out + b.toString()).slice(-8000));

  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    // Speed over durability (a test database): no fsync (commits still reach the OS before they return, so a crash-like restart keeps them), small buffers, frugal on a shared machine.
    const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=16MB', '-c', 'max_connections=200', '-c', 'log_min_messages=warning'];
    const c = spawn(join(bin, 'postgres'), args, { ...ids, env, stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    c.once('exit', () => running.delete(c));
    running.add(c);
    // A test process whose tests are done exits even if nobody called stop(); the exit hook above
    // then stops the server and removes its directory.
    c.unref();
    for (const stream of [c.stdout, c.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
    child = c;
    await waitReady(port, c, () => out);
  };

  const halt = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    // SIGINT: fast shutdown (disconnect clients, checkpoint); SIGQUIT: immediate (crash-like, recovery on start).
    c.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await start();
    // The default database `drover` (initdb makes only postgres/template0/template1).
    const admin = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${USER} OWNER ${USER}`).finally(() => admin.end());
  } catch (err) {
    await halt('immediate');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${USER}`;
  let dbCount = 0;
  return {
    dir,
    port,
    socketDir: dir,
    user: USER,
    password: PASSWORD,
    url,
    async createDatabase(name?: string) {
      const db = name ?? `t${process.pid}_${++dbCount}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`database name must be a plain identifier, got ${db}`);
      const client = new pg.Client({ connectionString: url.replace(/\/[a-z_]+$/, '/postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${db} OWNER ${USER}`);
      } finally {
        await client.end();
      }
      return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${db}`;
    },
    halt,
    start,
    async restart(mode: 'fast' | 'immediate' = 'fast') {
      await halt(mode);
      await start();
    },
    log: () => out,
    async stop() {
      await halt('fast');
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}

/** Resolves once the server accepts an authenticated connection (not merely a TCP one: recovery refuses logins). */
async function waitReady(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`postgres exited (${child.exitCode ?? child.signalCode}):\n${log()}`);
    const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres', connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (err) {
      last = (err as Error).message;
      await client.end().catch(() => undefined);
      // Only "not up yet" is worth waiting for; anything else (authentication, configuration) is final.
      const code = (err as { code?: string }).code;
      if (code !== undefined && !['ECONNREFUSED', 'ECONNRESET', '57P03', '57P01', '08006'].includes(code)) throw new Error(`postgres on port ${port}: ${last}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`postgres on port ${port} did not accept connections (${last}):\n${log()}`);
}
