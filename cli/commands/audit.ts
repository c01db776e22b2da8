// `drover audit list|verify`: the audit trail (issue 5). `verify` walks the hash chain in the
// store and exits 1 naming the first row that was edited or follows a deleted one.
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { addAdminOptions, adminRequest, CliError, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { table } from './token.ts';

interface AuditRow {
  seq: number;
  time: string;
  user: string;
  idp: string;
  cluster: string | null;
  verb: string;
  path: string;
  status: number;
  latencyMs: number;
  impersonated?: string;
}

export function registerAudit(program: Command): void {
  const audit = program
    .command('audit')
    .description('the audit trail of API calls and proxied Kubernetes requests (admin)')
    .addHelpText('after', '\nExample:\n  drover audit verify --data-dir /var/lib/drover/server');

  addAdminOptions(
    audit
      .command('list')
      .description('list audit rows, oldest first')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addOption(new Option('--after <seq>', 'only rows after this sequence number').env('DROVER_AFTER'))
      .addOption(new Option('--limit <n>', 'at most this many rows (max 1000)').env('DROVER_LIMIT'))
      .addHelpText('after', '\nExample:\n  drover audit list --after 100 --limit 50 --json'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean; after?: string; limit?: string }) => {
      const q = new URLSearchParams();
      for (const [k, v] of [['after', opts.after], ['limit', opts.limit]] as const) {
        if (v === undefined) continue;
        if (!/^\d+$/.test(v)) throw new CliError(EXIT.USAGE, `--${k} takes a whole number (got ${v})`);
        q.set(k, v);
      }
      const rows = (await adminRequest(resolveConnection(opts), 'GET', `/v1/audit${q.size ? `?${q}` : ''}`)).body as AuditRow[];
      if (opts.json) return void process.stdout.write(`${JSON.stringify(rows)}\n`);
      process.stdout.write(
        table([
          ['SEQ', 'TIME', 'USER', 'IDP', 'CLUSTER', 'VERB', 'STATUS', 'MS', 'PATH'],
          ...rows.map((r) => [String(r.seq), r.time, r.impersonated ? `${r.user} as ${r.impersonated}` : r.user, r.idp, r.cluster ?? '-', r.verb, String(r.status), String(r.latencyMs), r.path]),
        ]),
      );
    }),
  );

  addAdminOptions(
    audit.command('verify').description('check the hash chain; exit 1 naming the first bad row').addHelpText('after', '\nExample:\n  drover audit verify'),
  ).action(
    withExitCodes(async (opts: AdminOptions) => {
      const r = (await adminRequest(resolveConnection(opts), 'GET', '/v1/audit/verify')).body as {
        ok: boolean;
        checked: number;
        firstBad?: { seq: number; reason: string };
      };
      if (r.ok) return void process.stdout.write(`audit chain ok: ${r.checked} rows\n`);
      const bad = r.firstBad ?? { seq: -1, reason: 'unknown' };
      const why =
        bad.reason === 'edited'
          ? 'was edited'
          : bad.reason === 'missing-before'
            ? 'follows a deleted row'
            : bad.reason === 'missing-after'
              ? 'and the rows after it were deleted (audit.log still has them)'
              : 'does not link to the row before';
      throw new CliError(EXIT.FAILURE, `audit chain broken at row ${bad.seq}: it ${why} (${r.checked} rows before it are intact)`);
    }),
  );
}
