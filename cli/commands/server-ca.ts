// `drover server rotate-ca [--overlap DURATION]` and `drover server set-url URL [--keep-old DURATION]`
// (issue 18, docs/access.md): both reach the running server like any admin command (--data-dir on
// the server host, or --server/--token), which pushes the change to agents over their tunnels.
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { durationSeconds } from '../duration.ts';
import { addAdminOptions, adminRequest, CliError, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { checkServerUrl } from '../../server-lite/access/server-url.ts';

function seconds(flag: string, text: string): number {
  const s = durationSeconds(text, { bareSeconds: false });
  if (s === undefined) throw new CliError(EXIT.USAGE, `${flag} must be a duration like 30m, 24h or 7d (got ${text})`);
  return s;
}

export function registerServerAccess(program: Command): void {
  const server = program.commands.find((c) => c.name() === 'server');
  if (!server) throw new Error('registerServerAccess: the server command must be registered first');

  addAdminOptions(
    server
      .command('rotate-ca')
      .description('make a new server CA: pushed to agents now, served after the overlap (agents offline throughout still reconnect: the new CA is cross-signed by the old)')
      .addOption(new Option('--overlap <duration>', 'how long before the server switches to the new CA (default 24h)').env('DROVER_CA_OVERLAP'))
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover server rotate-ca --overlap 24h --data-dir /var/lib/drover/server'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { overlap?: string; json?: boolean }) => {
      const body = opts.overlap === undefined ? {} : { overlapSeconds: seconds('--overlap', opts.overlap) };
      const v = (await adminRequest(resolveConnection(opts), 'POST', '/v1/server/ca/rotate', body)).body as {
        caHash: string;
        rotation: { nextCaHash: string; switchAt: string } | null;
      };
      if (opts.json) return void process.stdout.write(`${JSON.stringify(v)}\n`);
      process.stdout.write(
        `new CA sha256 ${v.rotation?.nextCaHash ?? '?'}; the server switches to it at ${v.rotation?.switchAt ?? '?'}\n` +
          `join tokens made from now on after the switch start with D10${v.rotation?.nextCaHash ?? ''}; older ones keep working\n`,
      );
    }),
  );

  addAdminOptions(
    server
      .command('set-url')
      .description('tell agents to reach the server at URL from now on, keeping the current URL as fallback for --keep-old')
      .argument('<url>', 'https://HOST[:PORT]')
      .addOption(new Option('--keep-old <duration>', 'how long agents fall back to the URL they have (default 24h; 0: no fallback)').env('DROVER_KEEP_OLD'))
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover server set-url https://drover.example.com:9443 --keep-old 7d --data-dir /var/lib/drover/server'),
  ).action(
    withExitCodes(async (url: string, opts: AdminOptions & { keepOld?: string; json?: boolean }) => {
      const checked = checkServerUrl(url);
      if (typeof checked === 'string') throw new CliError(EXIT.USAGE, checked);
      const body: Record<string, unknown> = { url: checked.url };
      if (opts.keepOld !== undefined) body.keepOldSeconds = opts.keepOld.trim() === '0' ? 0 : seconds('--keep-old', opts.keepOld);
      const v = (await adminRequest(resolveConnection(opts), 'POST', '/v1/server/url', body)).body as { url: string; keepOldUntil: string | null };
      if (opts.json) return void process.stdout.write(`${JSON.stringify(v)}\n`);
      process.stdout.write(`agents use ${v.url} from their next connection${v.keepOldUntil ? `, falling back to their current URL until ${v.keepOldUntil}` : ''}\n`);
    }),
  );
}
