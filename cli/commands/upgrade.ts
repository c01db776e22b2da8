// `drover upgrade agents --version V [--target SELECTOR] [--max-unavailable N|N%] [--canary N]` and
// `drover upgrade status [--json]` (ARCHITECTURE.md §3, issue 16). The `upgrade` parent is shared:
// other upgrade kinds add themselves through registerUpgrade's `extensions` (e.g. `upgrade
// kubernetes`, cli/commands/upgrade-kubernetes.ts), or by calling upgradeCommand(program).
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { addAdminOptions, adminRequest, CliError, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { table } from './token.ts';
import { parseSelectorString } from '../../server-lite/fleet/label-selector.ts';
import { parseMaxUnavailable } from '../../server-lite/upgrades/upgrade-rollout.ts';
import type { UpgradeStatusView } from '../../server-lite/upgrades/upgrade-service.ts';

const usage = (message: string): CliError => new CliError(EXIT.USAGE, message);

/** The `upgrade` parent command, created once; each kind of upgrade adds its subcommand to it. */
export function upgradeCommand(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === 'upgrade');
  if (existing) return existing;
  return program
    .command('upgrade')
    .description('upgrade the fleet: drover agents (signed releases), Kubernetes (node plans)')
    .addHelpText('after', '\nExample:\n  drover upgrade agents --version 0.2.0 --canary 1 --max-unavailable 10%\n  drover upgrade status');
}

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)}`;
}

export function renderUpgradeStatus(s: UpgradeStatusView): string {
  const m = s.summary;
  const head = [
    `Upgrade:   agents to ${s.version} (${s.state}${s.message ? `: ${s.message}` : ''})`,
    `Target:    ${s.target || '(every agent)'}  max unavailable ${s.maxUnavailable}, canary ${s.canary}`,
    `Agents:    ${s.agents.length}: ${m.succeeded} succeeded, ${m.downloading} downloading, ${m.staged} staged, ${m.restarting} restarting, ${m.pending} pending, ${m.rolledBack} rolled back, ${m.failed} failed, ${m.offline} offline (deferred)`,
    '',
  ];
  const rows = [['AGENT', 'CLUSTER', 'STATE', 'FROM', 'NOW', 'PROGRESS', 'SINCE', 'MESSAGE']];
  for (const a of s.agents) {
    rows.push([`${a.id}${a.canary ? ' (canary)' : ''}`, a.cluster, a.state, a.fromVersion ?? '-', a.version ?? '-', a.total > 0 ? `${mib(a.bytes)}/${mib(a.total)} MiB` : '-', a.since, a.message.slice(0, 120)]);
  }
  return `${head.join('\n')}\n${table(rows)}`;
}

export function registerUpgrade(program: Command, extensions: readonly ((upgrade: Command) => void)[] = []): void {
  const upgrade = upgradeCommand(program);
  addAdminOptions(
    upgrade
      .command('agents')
      .description('roll a release out to agents: canaries first, at most --max-unavailable at once, each rolled back by itself if it does not come back healthy')
      .addOption(new Option('--version <v>', 'release version (see drover release list)').env('DROVER_UPGRADE_VERSION'))
      .addOption(new Option('--target <selector>', "label selector over the agents' clusters (default: every agent)").env('DROVER_UPGRADE_TARGET'))
      .option('--max-unavailable <n|n%>', 'agents upgrading at once (default 1)')
      .option('--canary <n>', 'upgrade N agents first; the rest wait until they succeed, and a failed canary stops the rollout (default 0)')
      .addHelpText('after', '\nExit codes: 2 an option is invalid or the version is not imported (nothing started).\n\nExample:\n  drover upgrade agents --version 0.2.0 --target site=berlin --canary 1 --max-unavailable 25%'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { version?: string; target?: string; maxUnavailable?: string; canary?: string }) => {
      if (!opts.version) throw usage('--version is required: the release to upgrade to (see drover release list)');
      try {
        if (opts.target !== undefined) parseSelectorString(opts.target);
      } catch (err) {
        throw usage(`--target: ${(err as Error).message}`);
      }
      if (opts.maxUnavailable !== undefined && parseMaxUnavailable(opts.maxUnavailable) === undefined) throw usage(`--max-unavailable "${opts.maxUnavailable}": expected a number of agents (1 or more) or a percentage like 25%`);
      if (opts.canary !== undefined && !/^\d+$/.test(opts.canary)) throw usage(`--canary "${opts.canary}": expected a number of agents (0 or more)`);
      let res;
      try {
        res = await adminRequest(resolveConnection(opts), 'POST', '/v1/upgrades', {
          version: opts.version,
          ...(opts.target === undefined ? {} : { target: opts.target }),
          ...(opts.maxUnavailable === undefined ? {} : { maxUnavailable: opts.maxUnavailable }),
          ...(opts.canary === undefined ? {} : { canary: Number(opts.canary) }),
        });
      } catch (err) {
        if (err instanceof CliError && /RELEASE_NOT_FOUND|UPGRADE_OPTIONS_INVALID/.test(err.message)) throw usage(err.message);
        throw err;
      }
      const s = res.body as UpgradeStatusView;
      process.stdout.write(`upgrading ${s.agents.length} agent${s.agents.length === 1 ? '' : 's'} to ${s.version}${s.canary > 0 ? ` (${s.canary} canary first)` : ''}; follow with drover upgrade status\n`);
      if (s.agents.length === 0) process.stderr.write(`drover: warning: --target ${opts.target ?? ''} matches no agent yet; agents that register later and match are upgraded\n`);
    }),
  );

  addAdminOptions(
    upgrade.command('status').description('the latest agent upgrade: per agent Pending, Downloading, Staged, Restarting, Succeeded, RolledBack, Failed, Offline (deferred)')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover upgrade status --json | jq .summary'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const s = (await adminRequest(resolveConnection(opts), 'GET', '/v1/upgrades')).body as UpgradeStatusView;
      process.stdout.write(opts.json ? `${JSON.stringify(s)}\n` : renderUpgradeStatus(s));
    }),
  );
  for (const extend of extensions) extend(upgrade);
}
