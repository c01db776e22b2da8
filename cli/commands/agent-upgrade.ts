// `drover agent upgrade --from FILE` (ARCHITECTURE.md §3, issue 16): the air-gapped upgrade of a
// device, with the same verification as a server-driven one (agents/upgrade/agent-upgrade.ts), then
// a restart of the running agent so the health gate decides. `--recover` is the unit's pre-start
// step (ExecStartPre, run by drover.previous): it rolls back a new executable that died or hung
// before becoming healthy, even one that never ran any of our code.
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { parseRoles, resolveDataDir, DEFAULT_DATA_DIR } from '../../agents/common/config.ts';

export function registerAgentUpgrade(agent: Command): void {
  agent
    .command('upgrade')
    .description('replace this device\'s drover with a signed release from a file (air gap): verify, keep the previous one, restart')
    .addOption(new Option('--from <path>', 'an air-gap tarball (drover-airgap-linux-<arch>.tar.gz) or a folder with sha256sums, sha256sums.sig, VERSION and drover-linux-<arch>'))
    .addOption(new Option('--no-restart', 'only put the new executable in place; restart the agent yourself'))
    .addOption(new Option('--recover', 'the unit\'s pre-start step: finish or roll back an interrupted upgrade, then exit').hideHelp())
    .addOption(new Option('--roles <roles>', 'with --recover: the roles of the unit (its starts are counted apart)').env('DROVER_AGENT_ROLES').hideHelp())
    .addOption(new Option('--data-dir <dir>', `agent state directory (default ${DEFAULT_DATA_DIR})`).env('DROVER_AGENT_DATA_DIR'))
    .addHelpText('after', '\nExit codes: 1 when the release does not verify (bad signature or checksum); the installed drover is then untouched.\n\nExample:\n  drover agent upgrade --from /media/usb/drover-airgap-linux-arm64.tar.gz')
    .action(async (opts: { from?: string; restart?: boolean; recover?: boolean; roles?: string; dataDir?: string }) => {
      const dataDir = resolveDataDir(opts.dataDir);
      const { processKey, recover } = await import('../../agents/upgrade/swap.ts');
      if (opts.recover) {
        const r = recover(dataDir, Date.now(), 'pre-start', processKey(parseRoles(opts.roles)));
        if (r.action === 'rolled-back') process.stderr.write(`drover: ${r.record.message}\n`);
        process.exitCode = EXIT.OK;
        return;
      }
      if (!opts.from) {
        process.stderr.write('drover: --from is required: the air-gap tarball or release folder to upgrade from\n');
        process.exitCode = EXIT.USAGE;
        return;
      }
      const { upgradeFrom } = await import('../../agents/upgrade/agent-upgrade.ts');
      const { UpgradeError } = await import('../../protocol/release-errors.ts');
      try {
        const done = await upgradeFrom(opts.from, dataDir);
        process.stdout.write(`drover ${done.version} is in place at ${done.exe} (previous kept as ${done.exe}.previous)\n`);
        if (opts.restart !== false) {
          const signalled = await restartRunningAgents(dataDir);
          process.stdout.write(signalled > 0 ? `restarting the running agent (pid ${signalled}); it must connect within the health deadline or the previous drover comes back\n` : 'no running agent found: start it (systemctl restart drover-agent) to finish the upgrade\n');
        }
        process.exitCode = EXIT.OK;
      } catch (err) {
        if (!(err instanceof UpgradeError)) throw err;
        process.stderr.write(`drover: ${err.code}: ${err.message}\n`);
        process.exitCode = EXIT.FAILURE;
      }
    });
}

/**
 * SIGTERMs the process running this data dir's agent (from its role states: a pid that is alive
 * and whose command line is a drover agent), so systemd or the supervisor restarts it; 0 if none.
 */
async function restartRunningAgents(dataDir: string): Promise<number> {
  const { AgentStore } = await import('../../agents/common/store.ts');
  let store;
  try {
    store = AgentStore.open(dataDir, { create: false });
  } catch {
    return 0;
  }
  try {
    const pids = new Set(store.roleStates().map((s) => s.pid).filter((p): p is number => typeof p === 'number' && p > 0 && p !== process.pid));
    for (const pid of pids) {
      try {
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (!cmdline.includes('agent') || !cmdline.includes('run')) continue;
        process.kill(pid, 'SIGTERM');
        return pid;
      } catch {
        // gone, or not ours to signal
      }
    }
    return 0;
  } finally {
    store.close();
  }
}
