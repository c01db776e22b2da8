// `drover clustergroup create|list|delete` (ARCHITECTURE.md §3): named label selectors that
// fleet.yaml targets and rollout partitions refer to with `clusterGroup`.
import { Option, type Command } from 'commander';
import { addAdminOptions, adminRequest, CliError, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { EXIT } from '../exit-codes.ts';
import { isFleetError } from '../../server-lite/fleet/errors.ts';
import { parseSelectorString } from '../../server-lite/fleet/label-selector.ts';
import { table } from './token.ts';

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export function formatSelector(s: Selector): string {
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) parts.push(`${e.key} ${e.operator}${e.values ? ` (${e.values.join(',')})` : ''}`);
  return parts.join(',') || '(all clusters)';
}

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Usage errors (exit 2) caught before anything is sent: the server would refuse them anyway. */
export function checkGroupInput(name: string, selector: string): void {
  if (!NAME.test(name)) throw new CliError(EXIT.USAGE, `clustergroup name "${name}" must be a DNS label (lowercase letters, digits, '-', at most 63)`);
  try {
    parseSelectorString(selector);
  } catch (e) {
    if (isFleetError(e)) throw new CliError(EXIT.USAGE, `--selector: ${e.code}: ${e.message}`);
    throw e;
  }
}

export function registerClusterGroup(program: Command): void {
  const group = program
    .command('clustergroup')
    .description('named cluster selectors for bundle targets and rollout partitions (admin)')
    .addHelpText('after', '\nExample:\n  drover clustergroup create edge --selector env=edge');

  addAdminOptions(
    group
      .command('create')
      .argument('<name>', 'group name')
      .description('create or replace a cluster group')
      .addOption(new Option('--selector <k=v,...>', 'label selector: k=v, k!=v, k in (a,b), k notin (a), k, !k').env('DROVER_CLUSTERGROUP_SELECTOR').makeOptionMandatory())
      .addHelpText('after', '\nExample:\n  drover clustergroup create berlin --selector site=berlin,env=edge'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions & { selector: string }) => {
      checkGroupInput(name, opts.selector);
      await adminRequest(resolveConnection(opts), 'POST', '/v1/fleet/clustergroups', { name, selector: opts.selector });
      process.stdout.write(`clustergroup ${name}: ${opts.selector}\n`);
    }),
  );

  addAdminOptions(
    group
      .command('list')
      .description('list cluster groups')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover clustergroup list --json'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const rows = ((await adminRequest(resolveConnection(opts), 'GET', '/v1/fleet/clustergroups')).body as { clustergroups: { name: string; selector: Selector }[] }).clustergroups;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const lines = [['NAME', 'SELECTOR']];
      for (const g of rows) lines.push([g.name, formatSelector(g.selector)]);
      process.stdout.write(table(lines));
    }),
  );

  addAdminOptions(
    group
      .command('delete')
      .argument('<name>', 'group name')
      .description('delete a cluster group')
      .addHelpText('after', '\nExample:\n  drover clustergroup delete berlin'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions) => {
      await adminRequest(resolveConnection(opts), 'DELETE', `/v1/fleet/clustergroups/${encodeURIComponent(name)}`);
      process.stdout.write(`deleted clustergroup ${name}\n`);
    }),
  );
}
