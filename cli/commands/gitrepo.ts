// `drover gitrepo add|list|delete` (ARCHITECTURE.md §3): the server polls a git repository with the
// real `git` (backoff on errors; POST /v1/fleet/webhook polls at once) and turns each path or
// fleet.yaml into a bundle named GITREPO-path.
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { addAdminOptions, adminRequest, CliError, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { table } from './token.ts';

/** `30s`, `5m`, `1h` or plain seconds. */
export function parseInterval(text: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (!m) throw new CliError(EXIT.USAGE, `--poll-interval must look like 30s, 5m or 1h, got ${text}`);
  const n = Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
  if (n < 1 || n > 86_400) throw new CliError(EXIT.USAGE, '--poll-interval must be between 1s and 24h');
  return n;
}

export function registerGitRepo(program: Command): void {
  const gitrepo = program
    .command('gitrepo')
    .description('git repositories the server polls for bundles (admin)')
    .addHelpText('after', '\nExample:\n  drover gitrepo add apps --repo https://git.example.com/ops/apps.git --branch main --paths web,monitoring');

  addAdminOptions(
    gitrepo
      .command('add')
      .argument('<name>', 'gitrepo name (prefix of its bundle names)')
      .description('poll a repository; every path (or fleet.yaml below it) becomes a bundle')
      .addOption(new Option('--repo <url>', 'repository URL (https://, ssh, git:// or file://)').env('DROVER_GITREPO_REPO').makeOptionMandatory())
      .addOption(new Option('--branch <branch>', 'branch to follow (default: the remote HEAD)').env('DROVER_GITREPO_BRANCH'))
      .addOption(new Option('--revision <rev>', 'a pinned commit or tag (wins over --branch)').env('DROVER_GITREPO_REVISION'))
      .addOption(new Option('--paths <a,b>', 'comma-separated directories to scan (default: the whole repository)').env('DROVER_GITREPO_PATHS'))
      .addOption(new Option('--poll-interval <duration>', 'time between polls, e.g. 15s, 5m').env('DROVER_GITREPO_POLL_INTERVAL').default('15s'))
      .addHelpText('after', '\nExample:\n  drover gitrepo add demo --repo file:///srv/git/demo.git --paths plain,helm --poll-interval 10s'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions & { repo: string; branch?: string; revision?: string; paths?: string; pollInterval: string }) => {
      const body = {
        name, repo: opts.repo, pollIntervalSeconds: parseInterval(opts.pollInterval),
        ...(opts.branch ? { branch: opts.branch } : {}),
        ...(opts.revision ? { revision: opts.revision } : {}),
        ...(opts.paths ? { paths: opts.paths.split(',').map((p) => p.trim()).filter((p) => p !== '') } : {}),
      };
      await adminRequest(resolveConnection(opts), 'POST', '/v1/fleet/gitrepos', body);
      process.stdout.write(`gitrepo ${name}: polling ${opts.repo}\n`);
    }),
  );

  addAdminOptions(
    gitrepo
      .command('list')
      .description('list gitrepos with the commit last seen, the last error and their bundles')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover gitrepo list --json'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const rows = ((await adminRequest(resolveConnection(opts), 'GET', '/v1/fleet/gitrepos')).body as { gitrepos: { name: string; repo: string; branch?: string; commit: string | null; error: string | null; bundles: string[] }[] }).gitrepos;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const lines = [['NAME', 'REPO', 'BRANCH', 'COMMIT', 'BUNDLES', 'ERROR']];
      for (const g of rows) lines.push([g.name, g.repo, g.branch ?? '-', (g.commit ?? '-').slice(0, 12), g.bundles.join(',') || '-', g.error ?? '-']);
      process.stdout.write(table(lines));
    }),
  );

  addAdminOptions(
    gitrepo
      .command('delete')
      .argument('<name>', 'gitrepo name')
      .description('stop polling; its bundles are deleted (objects pruned unless keepResources)')
      .addHelpText('after', '\nExample:\n  drover gitrepo delete demo'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions) => {
      await adminRequest(resolveConnection(opts), 'DELETE', `/v1/fleet/gitrepos/${encodeURIComponent(name)}`);
      process.stdout.write(`deleted gitrepo ${name}\n`);
    }),
  );
}
