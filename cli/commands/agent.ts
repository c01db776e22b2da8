// `drover agent register|run|status|unregister` (ARCHITECTURE.md §3, issue 4). Thin: parse flags
// (each with a DROVER_… mirror), build a frozen config, call agents/common, map AgentError codes
// to the contract exit codes. The work lives in agents/.
import { Command, Option } from 'commander';
import { buildInfo } from '../build-info.ts';
import { EXIT } from '../exit-codes.ts';
import { AgentError, describeError } from '../../agents/common/errors.ts';
import { registerAgentFetchArtifact } from './agent-fetch-artifact.ts';
import { parseRegisterConfig, parseRunConfig, resolveDataDir, DEFAULT_DATA_DIR } from '../../agents/common/config.ts';
import pino from 'pino';
import { createLogger } from '../../agents/common/logger.ts';
import { defaultRegisterDeps, registerAgent } from '../../agents/common/register.ts';
import { unregisterAgent } from '../../agents/common/unregister.ts';
import { readStatus } from '../agent-status.ts';
import { registerAgentUpgrade } from './agent-upgrade.ts';
import { formatStatus } from '../../agents/common/status.ts';
// The agent loop and each role are loaded by `agent run` for the roles it runs (await import
// below): `agent status`, `register` and a node-only agent never evaluate the cluster or fleet code.
import type { RoleFactsProvider, RoleStreamHandler } from '../../agents/common/run-agent.ts';
import type { Role } from '../../agents/common/config.ts';

function dataDirOption(): Option {
  return new Option('--data-dir <dir>', `agent state directory (default ${DEFAULT_DATA_DIR})`).env('DROVER_AGENT_DATA_DIR');
}

/** Runs an action, turning AgentErrors into `drover: CODE: message` and the contract exit code. */
async function guarded(fn: () => Promise<number | void>): Promise<void> {
  try {
    const code = await fn();
    process.exitCode = code ?? EXIT.OK;
  } catch (err) {
    if (!(err instanceof AgentError)) throw err;
    process.stderr.write(`drover: ${describeError(err)}\n`);
    process.exitCode = err.exitCode;
  }
}

function cliLogger(level: string) {
  return createLogger({ level: process.env.DROVER_LOG_LEVEL ?? level });
}

/**
 * One-shot commands a person runs (register, unregister): warnings as one plain line each
 * (`drover: warning: …`), no JSON; errors are left to the command's own final message, so a refusal
 * says one clear thing. DROVER_LOG_LEVEL=debug|info brings the agent's structured log back.
 */
function personLogger() {
  if (process.env.DROVER_LOG_LEVEL) return cliLogger('warn');
  return pino({ level: 'warn' }, {
    write(line: string): void {
      const o = JSON.parse(line) as { level?: number; msg?: string };
      if ((o.level ?? 0) < 50) process.stderr.write(`drover: warning: ${o.msg ?? ''}\n`);
    },
  });
}

export function registerAgentCommands(program: Command): void {
  const agent = program
    .command('agent')
    .description('run on an edge device: join a server, keep tunnels open, report status')
    .addHelpText('after', '\nExample:\n  drover agent register --server https://drover.example.com:9443 --token "$JOIN_TOKEN"\n  drover agent run --roles cluster,node,fleet');

  agent
    .command('register')
    .description('join a server with a join token: verifies the server CA against the token, then stores the agent identity')
    .addOption(new Option('--server <url>', 'server URL, https://HOST[:PORT]').env('DROVER_SERVER'))
    .addOption(new Option('--token <token>', 'join token from `drover token create`').env('DROVER_TOKEN'))
    .addOption(new Option('--name <name>', 'cluster name for label-scoped tokens (default: hostname)').env('DROVER_AGENT_NAME'))
    .addOption(new Option('--labels <k=v,...>', 'labels for the new cluster').env('DROVER_AGENT_LABELS'))
    .addOption(new Option('--kubeconfig <path>', 'kubeconfig of the local cluster (cluster role facts and proxy)').env('DROVER_KUBECONFIG'))
    .addOption(dataDirOption())
    .addHelpText('after', '\nExit codes: 3 server unreachable, 4 token refused, 5 server CA does not match the token.\n\nExample:\n  drover agent register --server https://10.0.0.1:9443 --token "$JOIN_TOKEN" --labels site=berlin,tier=edge')
    .action((opts: { server?: string; token?: string; name?: string; labels?: string; kubeconfig?: string; dataDir?: string }) =>
      guarded(async () => {
        const info = buildInfo();
        const cfg = parseRegisterConfig(opts, info.version);
        const id = await registerAgent(cfg, defaultRegisterDeps(personLogger(), info.version));
        process.stdout.write(`registered agent ${id.agentId}: cluster ${id.clusterId}, node ${id.nodeId} (state in ${cfg.dataDir})\n`);
      }),
    );

  agent
    .command('run')
    .description('keep one tunnel per role open to the server, reconnecting with backoff; runs until SIGINT/SIGTERM')
    .addOption(new Option('--roles <roles>', 'comma-separated roles: cluster,node,fleet (default: all)').env('DROVER_AGENT_ROLES'))
    .addOption(new Option('--backoff-cap <duration>', 'longest wait between reconnect attempts, e.g. 60s').env('DROVER_AGENT_BACKOFF_CAP'))
    .addOption(dataDirOption())
    .addHelpText('after', '\nHonours HTTPS_PROXY / NO_PROXY (HTTP CONNECT proxies). Logs JSON to stderr (pretty on a terminal); DROVER_LOG_LEVEL sets the level.\n\nExample:\n  drover agent run --roles cluster --data-dir /var/lib/drover/agent')
    .action((opts: { roles?: string; backoffCap?: string; dataDir?: string }) =>
      guarded(async () => {
        const cfg = parseRunConfig(opts, buildInfo().version);
        // Self-upgrade (issue 16): finish or undo an interrupted upgrade before anything else.
        const upgrade = await import('../../agents/upgrade/agent-upgrade.ts');
        const gate = upgrade.gateAgentRun(cfg.dataDir, cfg.roles, cliLogger('info'));
        if (gate.mustExit) return EXIT.FAILURE;
        const controller = new AbortController();
        const stop = (): void => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          const { runAgent } = await import('../../agents/common/run-agent.ts');
          const roleFacts: Partial<Record<Role, RoleFactsProvider>> = {};
          const roleStreams: Partial<Record<Role, RoleStreamHandler>> = {};
          if (cfg.roles.includes('cluster')) {
            const { clusterFactsProvider, clusterStreamProvider } = await import('../../agents/cluster/cluster-role.ts');
            roleFacts.cluster = clusterFactsProvider;
            roleStreams.cluster = clusterStreamProvider;
          }
          if (cfg.roles.includes('node')) {
            const { nodeFactsProvider } = await import('../../agents/node/facts-provider.ts');
            const { nodeAccessTargets } = await import('../../agents/node/shell-role.ts');
            const { startNodeRole } = await import('../../agents/node/node-role.ts');
            const { nodeKubeconfig } = await import('../../agents/node/kube-fallback.ts');
            const { clusterStreamHandler } = await import('../../agents/cluster/stream-router.ts');
            roleFacts.node = (ctx) => nodeFactsProvider(ctx);
            // Plans, the shell, and the cluster agent's own Kubernetes proxy as the fallback path (issue 15).
            // DROVER_NODE_PLAN_SCAN_MS: how often the local plan directory is read (tests use a short one).
            roleStreams.node = (ctx) => {
              const kubeconfig = nodeKubeconfig(ctx.identity.kubeconfig);
              const extraTargets = nodeAccessTargets(ctx, kubeconfig ? { kube: clusterStreamHandler(kubeconfig, ctx.logger) } : {});
              return startNodeRole({ db: ctx.db, dataDir: cfg.dataDir, logger: ctx.logger, onStop: ctx.onStop, scanMs: positiveEnv('DROVER_NODE_PLAN_SCAN_MS'), extraTargets, notifyOutbox: ctx.notifyOutbox }).onStream;
            };
          }
          if (cfg.roles.includes('fleet')) {
            const { startFleetRole } = await import('../../agents/fleet/fleet-role.ts');
            // DROVER_FLEET_INTERVAL_MS: pause between reconcile passes (tests use a short one).
            roleStreams.fleet = (ctx) => startFleetRole({ kubeconfig: ctx.identity.kubeconfig, db: ctx.db, logger: ctx.logger, onStop: ctx.onStop, onCleanup: ctx.onCleanup, notifyOutbox: ctx.notifyOutbox, intervalMs: fleetInterval() }).onStream;
          }
          const { UPGRADE_TARGET } = await import('../../protocol/contracts/agent-upgrade.ts');
          const target = upgrade.upgradeTarget(cfg.dataDir, cfg.agentVersion, cliLogger('info'));
          await runAgent(cfg, { logger: cliLogger('info'), env: process.env, signal: controller.signal, roleFacts, roleStreams, agentTargets: { [UPGRADE_TARGET]: (s) => target.serve(s) } });
        } finally {
          gate.stop();
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      }),
    );

  agent
    .command('status')
    .description('show registration and per-role connection state from local state only (works while the server is down)')
    .option('--json', 'print JSON')
    .addOption(dataDirOption())
    .addHelpText('after', '\nExample:\n  drover agent status --json | jq \'.roles[] | {name, state, lastError}\'')
    .action((opts: { json?: boolean; dataDir?: string }) =>
      guarded(async () => {
        const status = readStatus(resolveDataDir(opts.dataDir), buildInfo().version);
        process.stdout.write(opts.json ? JSON.stringify(status) + '\n' : formatStatus(status));
      }),
    );

  registerAgentUpgrade(agent);

  agent
    .command('unregister')
    .description('tell the server (when reachable) that this agent leaves, then remove the local identity')
    .addOption(dataDirOption())
    .addHelpText('after', '\nExample:\n  drover agent unregister --data-dir /var/lib/drover/agent')
    .action((opts: { dataDir?: string }) =>
      guarded(async () => {
        const res = await unregisterAgent(resolveDataDir(opts.dataDir), { env: process.env, logger: personLogger() });
        if (!res.serverNotified) process.stderr.write(`drover: warning: the server was not told (${res.serverError}); local identity removed anyway\n`);
        process.stdout.write(`unregistered agent ${res.agentId}\n`);
      }),
    );
  registerAgentFetchArtifact(agent); // a Kubernetes upgrade plan's fetch step (issue 15)
}

function fleetInterval(): number | undefined {
  const v = Number(process.env.DROVER_FLEET_INTERVAL_MS);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

function positiveEnv(name: string): number | undefined {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}
