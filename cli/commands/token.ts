// `drover token create|list|revoke`: join tokens (ARCHITECTURE.md §3). `create` prints only the
// token on stdout, so `TOKEN=$(drover token create)` works in scripts.
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { durationSeconds } from '../duration.ts';
import { addAdminOptions, adminRequest, CliError, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';

/** `90s`, `15m`, `24h`, `7d`, `1h30m`, or `0` (never expires) → seconds. */
export function parseDuration(text: string): number {
  if (text.trim() === '0') return 0;
  const seconds = durationSeconds(text);
  if (seconds === undefined) throw new CliError(EXIT.USAGE, `--ttl must be a duration like 30m, 24h, 7d or 0 for never (got ${text})`);
  return seconds;
}

/** `k=v,k2=v2` → labels. */
export function parseLabelList(text: string, flag: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(EXIT.USAGE, `${flag} takes k=v pairs separated by commas (got ${pair})`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

interface TokenRow {
  id: string;
  state: string;
  expiresAt: string | null;
  uses: number;
  usesMax: number;
  clusterId: string | null;
  labels: Record<string, string>;
}

export function registerToken(program: Command): void {
  const token = program
    .command('token')
    .description('manage join tokens (admin)')
    .addHelpText('after', '\nExample:\n  drover token create --data-dir /var/lib/drover/server --labels site=store-7');

  addAdminOptions(
    token
      .command('create')
      .description('create a join token and print it (only the token, on stdout)')
      .addOption(new Option('--ttl <duration>', 'lifetime, e.g. 30m, 24h, 7d; 0 = never expires (default 24h)').env('DROVER_TOKEN_TTL'))
      .addOption(new Option('--uses <n>', 'how many devices may register with it; 0 = unlimited (default 1)').env('DROVER_TOKEN_USES'))
      .addOption(new Option('--cluster <id>', 'add devices to this existing cluster').env('DROVER_TOKEN_CLUSTER'))
      .addOption(new Option('--labels <k=v,...>', 'each registering device becomes a new cluster with these labels').env('DROVER_TOKEN_LABELS'))
      .addHelpText('after', '\nExamples:\n  drover token create --data-dir /var/lib/drover/server --uses 1000 --labels site=store,region=eu\n  drover token create --server https://drover.example:9443 --token "$ADMIN" --cluster c-abc123'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { ttl?: string; uses?: string; cluster?: string; labels?: string }) => {
      if (opts.cluster !== undefined && opts.labels !== undefined) throw new CliError(EXIT.USAGE, 'give --cluster or --labels, not both');
      const body: Record<string, unknown> = {};
      if (opts.ttl !== undefined) body.ttlSeconds = parseDuration(opts.ttl);
      if (opts.uses !== undefined) {
        if (!/^\d+$/.test(opts.uses)) throw new CliError(EXIT.USAGE, `--uses must be a whole number (got ${opts.uses})`);
        body.uses = Number(opts.uses);
      }
      if (opts.cluster !== undefined) body.clusterId = opts.cluster;
      if (opts.labels !== undefined) body.labels = parseLabelList(opts.labels, '--labels');
      const res = await adminRequest(resolveConnection(opts), 'POST', '/v1/tokens', body);
      process.stdout.write(`${(res.body as { token: string }).token}\n`);
    }),
  );

  addAdminOptions(
    token
      .command('list')
      .description('list join tokens (never their secrets)')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover token list --data-dir /var/lib/drover/server --json'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const rows = (await adminRequest(resolveConnection(opts), 'GET', '/v1/tokens')).body as TokenRow[];
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const lines = [['ID', 'STATE', 'USES', 'EXPIRES', 'SCOPE']];
      for (const t of rows) {
        const scope = t.clusterId ?? (Object.entries(t.labels).map(([k, v]) => `${k}=${v}`).join(',') || 'new cluster');
        lines.push([t.id, t.state, `${t.uses}/${t.usesMax === 0 ? '∞' : t.usesMax}`, t.expiresAt ?? 'never', scope]);
      }
      process.stdout.write(table(lines));
    }),
  );

  addAdminOptions(
    token
      .command('revoke')
      .description('revoke a join token (agents already registered keep their identity)')
      .argument('<id>', 'token id (the part before the dot, see `drover token list`)')
      .addHelpText('after', '\nExample:\n  drover token revoke k3x9q2m4ab --data-dir /var/lib/drover/server'),
  ).action(
    withExitCodes(async (id: string, opts: AdminOptions) => {
      await adminRequest(resolveConnection(opts), 'DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
      process.stderr.write(`token ${id} revoked\n`);
    }),
  );
}

/** Left-aligned columns, two spaces apart. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}
