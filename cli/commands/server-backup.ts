// `drover server backup|restore` (decision 0807): sealed backups of a server's data dir, taken
// while it runs, restored onto an empty data dir on another machine; `backup verify` checks one.
// The passphrase comes from --passphrase-file FILE or DROVER_BACKUP_PASSPHRASE, never from argv.
import { Option, type Command } from 'commander';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { EXIT } from '../exit-codes.ts';
import { buildInfo } from '../build-info.ts';
import { CliError, withExitCodes } from '../admin-client.ts';
import { DEFAULT_DATA_DIR } from '../../server-lite/data-dir.ts';

export const PASSPHRASE_ENV = 'DROVER_BACKUP_PASSPHRASE';

/** The passphrase from a file (first line) or the environment; a usage error when neither is set. */
export function backupPassphrase(file: string | undefined): Buffer {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (err) {
      throw new CliError(EXIT.USAGE, `cannot read --passphrase-file ${file}: ${(err as Error).message}`);
    }
    return Buffer.from(text.split(/\r?\n/)[0] ?? '');
  }
  const env = process.env[PASSPHRASE_ENV];
  // Read once, then gone from the environment: no child process (git, helm) inherits it.
  delete process.env[PASSPHRASE_ENV];
  if (env) return Buffer.from(env);
  throw new CliError(EXIT.USAGE, `a backup passphrase is required: --passphrase-file FILE or ${PASSPHRASE_ENV} (never on the command line)`);
}

async function backupErrors<T>(fn: () => Promise<T>): Promise<T> {
  const { BackupError } = await import('../../server-lite/backup/sealed-file.ts');
  try {
    return await fn();
  } catch (err) {
    if (err instanceof BackupError) throw new CliError(err.code === 'BACKUP_PASSPHRASE_TOO_SHORT' ? EXIT.USAGE : EXIT.FAILURE, `${err.code}: ${err.message}`);
    throw err;
  }
}

const passphraseOption = () => new Option('--passphrase-file <file>', `file whose first line is the passphrase (- for stdin; or ${PASSPHRASE_ENV})`).env('DROVER_BACKUP_PASSPHRASE_FILE');

export function registerServerBackup(server: Command): void {
  const backup = server
    .command('backup')
    .description("a sealed backup of the server's data dir (store, fleet data, audit chain, TLS CA and keys, admin token), taken while it runs")
    .addOption(new Option('--to <file>', 'where to write the backup (required)').env('DROVER_BACKUP_TO'))
    .addOption(new Option('--data-dir <dir>', "the server's data dir").default(DEFAULT_DATA_DIR).env('DROVER_SERVER_DATA_DIR'))
    .addOption(passphraseOption())
    .addHelpText('after', `\nThe passphrase: --passphrase-file FILE or ${PASSPHRASE_ENV}.\n\nExample:\n  drover server backup --to /srv/backups/drover.bak --passphrase-file /root/backup-passphrase`)
    .action(
      withExitCodes(async (opts: { to?: string; dataDir: string; passphraseFile?: string }) => {
        if (!opts.to) throw new CliError(EXIT.USAGE, 'drover server backup needs --to FILE');
        const to = opts.to;
        const pass = backupPassphrase(opts.passphraseFile);
        const { createBackup } = await import('../../server-lite/backup/server-backup.ts');
        const { sealed, manifest } = await backupErrors(() => createBackup(opts.dataDir, pass, buildInfo().version));
        const tmp = `${to}.tmp`;
        try {
          writeFileSync(tmp, sealed, { mode: 0o600 });
          renameSync(tmp, to);
        } catch (err) {
          throw new CliError(EXIT.FAILURE, `cannot write ${to}: ${(err as Error).message}`);
        }
        process.stdout.write(`backup ${to}: ${manifest.files.length} files, ${sealed.length} bytes, taken ${manifest.createdAt}\n`);
      }),
    );

  backup
    .command('verify')
    .argument('<file>', 'a backup file')
    .description('check a backup (passphrase, checksums, SQLite integrity) without restoring it')
    .addOption(passphraseOption())
    .addHelpText('after', '\nExample:\n  drover server backup verify /srv/backups/drover.bak')
    .action(
      withExitCodes(async (file: string, opts: { passphraseFile?: string }) => {
        const pass = backupPassphrase(opts.passphraseFile);
        const { verifyBackup } = await import('../../server-lite/backup/server-backup.ts');
        let bytes: Buffer;
        try {
          bytes = readFileSync(file);
        } catch (err) {
          throw new CliError(EXIT.USAGE, `cannot read ${file}: ${(err as Error).message}`);
        }
        const m = await backupErrors(() => verifyBackup(bytes, pass));
        process.stdout.write(`backup ${file}: ok, ${m.files.length} files, taken ${m.createdAt} by drover ${m.version}\n`);
      }),
    );

  server
    .command('restore')
    .description('restore a backup into a new (absent or empty) data dir; start `drover server` on it afterwards')
    .addOption(new Option('--from <file>', 'the backup file').makeOptionMandatory().env('DROVER_RESTORE_FROM'))
    .addOption(new Option('--data-dir <dir>', 'the new data dir (must be absent or empty)').makeOptionMandatory().env('DROVER_RESTORE_DATA_DIR'))
    .addOption(passphraseOption())
    .addHelpText('after', '\nAgents keep their identities: point the server\'s address at the new machine (same CA, so the same join hash).\n\nExample:\n  drover server restore --from drover.bak --data-dir /var/lib/drover/server')
    .action(
      withExitCodes(async (opts: { from: string; dataDir: string; passphraseFile?: string }) => {
        const pass = backupPassphrase(opts.passphraseFile);
        const { restoreBackup } = await import('../../server-lite/backup/server-backup.ts');
        let bytes: Buffer;
        try {
          bytes = readFileSync(opts.from);
        } catch (err) {
          throw new CliError(EXIT.USAGE, `cannot read ${opts.from}: ${(err as Error).message}`);
        }
        const m = await backupErrors(() => restoreBackup(bytes, pass, opts.dataDir));
        process.stdout.write(`restored ${m.files.length} files into ${opts.dataDir} (backup taken ${m.createdAt})\n`);
      }),
    );
}
