// `drover server migrate --from DIR --to postgres://…` (issue 17): moves a stopped SQLite server's
// main store to PostgreSQL and verifies it (server-lite/store/sqlite-to-postgres.ts). Exit 2 for
// bad flags, 1 for a running source, an unreachable or non-empty target, or any mismatch.
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { CliError, withExitCodes } from '../admin-client.ts';
import { DEFAULT_DATA_DIR } from '../../server-lite/data-dir.ts';

export function registerServerMigrate(server: Command): void {
  server
    .command('migrate')
    .description("copy a stopped server's SQLite store (data dir) into an empty PostgreSQL database and verify it")
    .addOption(new Option('--from <dir>', "the stopped server's data dir").default(DEFAULT_DATA_DIR).env('DROVER_SERVER_DATA_DIR'))
    .addOption(new Option('--to <url>', 'postgres://USER:PASSWORD@HOST:PORT/DB, an empty database (required)').env('DROVER_MIGRATE_TO'))
    .addHelpText(
      'after',
      '\nThe data dir keeps the TLS CA, the admin token and the fleet, plan and secret files: start the\nserver with the same --data-dir and --datastore URL (decision 1022).\n\nExample:\n  drover server migrate --from /var/lib/drover/server --to postgres://drover:PW@db.example.com:5432/drover',
    )
    .action(
      withExitCodes(async (opts: { from: string; to?: string }) => {
        if (!opts.to) throw new CliError(EXIT.USAGE, 'drover server migrate needs --to postgres://…');
        if (!/^postgres(ql)?:\/\/./.test(opts.to)) throw new CliError(EXIT.USAGE, '--to must be a postgres:// URL');
        const { migrateSqliteToPostgres, MigrateError } = await import('../../server-lite/store/sqlite-to-postgres.ts');
        try {
          const report = await migrateSqliteToPostgres(opts.from, opts.to, { log: (line) => process.stderr.write(`${line}\n`) });
          for (const c of report.tables) process.stdout.write(`${c.table}\t${c.source}\t${c.target}\n`);
          process.stdout.write(`audit chain verified: ${report.audit.rows} rows, head ${report.audit.head ?? '(empty)'}\n`);
        } catch (err) {
          if (err instanceof MigrateError) throw new CliError(EXIT.FAILURE, `${err.code}: ${err.message}`);
          throw err;
        }
      }),
    );
}
