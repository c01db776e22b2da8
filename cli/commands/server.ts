// `drover server`: flags (each with a DROVER_… env mirror) → a frozen config → startServer(), then
// wait for SIGINT/SIGTERM and stop cleanly. All the work lives in server-lite/server.ts.
import { Option, type Command } from 'commander';
import { isIP } from 'node:net';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { EXIT } from '../exit-codes.ts';
import { durationSeconds } from '../duration.ts';
import { buildInfo } from '../build-info.ts';
import { backupPassphrase, PASSPHRASE_ENV, registerServerBackup } from './server-backup.ts';
import { registerServerMigrate } from './server-migrate.ts';
import { MIN_PASSPHRASE_BYTES } from '../../server-lite/backup/sealed-file.ts';
import { CliError, withExitCodes } from '../admin-client.ts';
import { DEFAULT_DATA_DIR } from '../../server-lite/data-dir.ts';
// The server itself is loaded only by `drover server` (await import below): an agent or an admin
// command on the same executable never evaluates server-lite and its dependencies.
import type { ServerConfig } from '../../server-lite/server.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_LISTEN = '0.0.0.0:9443';

/** `HOST:PORT`, `[v6]:PORT`, `:PORT` or `PORT`. */
export function parseListen(text: string): { host: string; port: number } {
  const usage = () => new CliError(EXIT.USAGE, `--listen must be HOST:PORT, e.g. 0.0.0.0:9443 or [::]:9443 (got ${text})`);
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) {
    host = v6[1] ?? '';
    portText = v6[2] ?? '';
    if (isIP(host) !== 6) throw usage();
  } else if (/^\d+$/.test(text)) {
    host = '';
    portText = text;
  } else {
    const m = /^([^:[\]]*):(\d+)$/.exec(text);
    if (!m) throw usage();
    host = m[1] ?? '';
    portText = m[2] ?? '';
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port > 65535) throw usage();
  return { host: host === '' ? '0.0.0.0' : host, port };
}

function logger(level: string): Logger {
  // JSON for journald and log shippers; readable lines when a person watches a terminal.
  return process.stdout.isTTY ? pino({ name: 'drover-server', level }, pretty({ colorize: true })) : pino({ name: 'drover-server', level });
}

interface ServerFlags {
  dataDir: string;
  listen: string;
  datastore?: string;
  tlsSan: string[];
  logLevel: string;
  downloadsDir?: string;
  backupEvery?: string;
  backupKeep: string;
  backupDir?: string;
  backupPassphraseFile?: string;
  advertiseAddress?: string;
}

/** `--advertise-address`: where other replicas reach this one; a dialable HOST:PORT (issue 17). */
function advertiseAddress(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m || !(port > 0 && port < 65536) || ['0.0.0.0', '[::]'].includes(m[1] ?? '')) {
    throw new CliError(EXIT.USAGE, `--advertise-address must be HOST:PORT that other replicas can dial, e.g. 10.0.0.5:9444 (got ${value})`);
  }
  return value;
}

/**
 * What the installer fetches from this server (ARCHITECTURE.md §4). A server running as the single
 * executable serves itself for its own architecture and the install.sh built into it; the other
 * architecture's executable (and, from a checkout, both) come from the downloads directory.
 */
async function downloadsHandler(dir: string): Promise<(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean> {
  const { handleDownload } = await import('../../packaging/downloads.ts');
  const { embeddedDownloads } = await import('../../packaging/runtime/embedded.ts');
  const embedded = embeddedDownloads();
  // From a checkout, install.sh is the repository's own (the executable embeds its copy).
  const checkoutScript = join(import.meta.dirname ?? '.', '..', '..', 'packaging', 'install.sh');
  const installScript = embedded.installScriptBytes === undefined && existsSync(checkoutScript) ? checkoutScript : undefined;
  const opts = { dir, ...embedded, ...(installScript ? { installScript } : {}) };
  return (req, res) => handleDownload(req, res, opts);
}

/** `--backup-every` and friends, checked before the server starts: a bad value is a usage error. */
function backupSchedule(flags: ServerFlags): { everyMs: number; keep: number; passphrase: Buffer } | undefined {
  if (flags.backupEvery === undefined) return undefined;
  const seconds = durationSeconds(flags.backupEvery);
  if (seconds === undefined) throw new CliError(EXIT.USAGE, `--backup-every must look like 30m, 6h or 1d (got ${flags.backupEvery})`);
  const everyMs = seconds * 1000;
  if (everyMs < 1_000) throw new CliError(EXIT.USAGE, '--backup-every must be at least 1s');
  if (everyMs > 2 ** 31 - 1) throw new CliError(EXIT.USAGE, '--backup-every must be at most 24d');
  if (flags.datastore !== undefined) throw new CliError(EXIT.USAGE, '--backup-every backs up the SQLite store in --data-dir; it cannot be used with --datastore');
  const keep = Number(flags.backupKeep);
  if (!Number.isInteger(keep) || keep < 1 || keep > 1000) throw new CliError(EXIT.USAGE, `--backup-keep must be a whole number from 1 to 1000 (got ${flags.backupKeep})`);
  const passphrase = backupPassphrase(flags.backupPassphraseFile);
  if (passphrase.length < MIN_PASSPHRASE_BYTES) throw new CliError(EXIT.USAGE, `the backup passphrase must have at least ${MIN_PASSPHRASE_BYTES} bytes`);
  return { everyMs, keep, passphrase };
}

const collect = (value: string, previous: string[]): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

export function registerServer(program: Command): void {
  const server = program.command('server').enablePositionalOptions();
  registerServerBackup(server);
  registerServerMigrate(server);
  server
    .description('run the Drover server (API, registration, agent tunnels) with HTTPS and WSS on one port')
    .addOption(new Option('--data-dir <dir>', 'state: TLS identity, admin token, SQLite database').default(DEFAULT_DATA_DIR).env('DROVER_SERVER_DATA_DIR'))
    .addOption(new Option('--listen <host:port>', 'address to listen on').default(DEFAULT_LISTEN).env('DROVER_LISTEN'))
    .addOption(new Option('--datastore <url>', 'sqlite:///path/file.db (default: SQLite in the data dir); postgres://USER:PASSWORD@HOST:PORT/DB for replicas on PostgreSQL (issue 17)').env('DROVER_DATASTORE'))
    .addOption(
      new Option('--tls-san <name>', 'extra DNS name or IP for the serving certificate (repeatable, or comma-separated)')
        .argParser(collect)
        .default([])
        .env('DROVER_TLS_SAN'),
    )
    .addOption(new Option('--downloads-dir <dir>', 'executables (drover-linux-amd64|arm64) and install.sh served to installers (default: DATA_DIR/downloads)').env('DROVER_DOWNLOADS_DIR'))
    .addOption(new Option('--backup-every <duration>', 'take a sealed backup this often (e.g. 6h, 30m; decision 0807); needs a passphrase').env('DROVER_BACKUP_EVERY'))
    .addOption(new Option('--backup-keep <n>', 'scheduled backups to keep (the newest)').default('7').env('DROVER_BACKUP_KEEP'))
    .addOption(new Option('--backup-dir <dir>', 'where scheduled backups go (default: DATA_DIR/backups)').env('DROVER_BACKUP_DIR'))
    .addOption(new Option('--backup-passphrase-file <file>', `passphrase for scheduled backups (or ${PASSPHRASE_ENV})`).env('DROVER_BACKUP_PASSPHRASE_FILE'))
    .addOption(new Option('--advertise-address <host:port>', 'HA replica (docs/ha.md): where other replicas reach this one (mutual TLS, server CA); it listens on that port').env('DROVER_ADVERTISE_ADDRESS'))
    .addOption(new Option('--log-level <level>', 'pino log level').choices(['debug', 'info', 'warn', 'error']).default('info').env('DROVER_LOG_LEVEL'))
    .addHelpText('after', '\nExample:\n  drover server --data-dir /var/lib/drover/server --listen 0.0.0.0:9443 --tls-san drover.example.com')
    .action(
      withExitCodes(async (flags: ServerFlags) => {
        const { host, port } = parseListen(flags.listen);
        const config: ServerConfig = Object.freeze({
          dataDir: flags.dataDir,
          host,
          port,
          datastore: flags.datastore,
          tlsSans: Object.freeze([...flags.tlsSan]),
          advertiseAddress: advertiseAddress(flags.advertiseAddress),
        });
        const schedule = backupSchedule(flags);
        const log = logger(flags.logLevel);
        const { startServer } = await import('../../server-lite/server.ts');
        const { DatastoreError, DatastoreUnavailableError } = await import('../../server-lite/store/open-store.ts');
        let running;
        try {
          running = await startServer(config, { log, version: buildInfo().version, downloads: await downloadsHandler(flags.downloadsDir ?? join(flags.dataDir, 'downloads')) });
        } catch (err) {
          if (err instanceof DatastoreError) throw new CliError(EXIT.USAGE, err.message);
          if (err instanceof DatastoreUnavailableError) throw new CliError(EXIT.FAILURE, err.message);
          const e = err as NodeJS.ErrnoException;
          if (e.code === 'EADDRINUSE') throw new CliError(EXIT.FAILURE, `${flags.listen} is already in use; pick another --listen`);
          if (e.code === 'EACCES') throw new CliError(EXIT.FAILURE, `permission denied for ${e.path ?? flags.listen}; check --data-dir and --listen`);
          throw err;
        }
        const server = running;
        let backups: NodeJS.Timeout | undefined;
        if (schedule) {
          const { backupInto } = await import('../../server-lite/backup/server-backup.ts');
          const dir = flags.backupDir ?? join(flags.dataDir, 'backups');
          let busy = false;
          backups = setInterval(() => {
            if (busy) return;
            busy = true;
            backupInto(dir, flags.dataDir, schedule.passphrase, buildInfo().version, schedule.keep).then(
              (file) => log.info({ file, keep: schedule.keep }, 'scheduled backup written'),
              (err: Error) => log.error({ err: err.message, dir }, 'scheduled backup failed'),
            ).finally(() => (busy = false));
          }, schedule.everyMs);
          backups.unref();
          log.info({ dir, everyMs: schedule.everyMs, keep: schedule.keep }, 'scheduled backups on');
        }
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            clearInterval(backups);
            log.info({ signal }, 'stopping');
            server.close().then(resolve, resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      }),
    );
}
