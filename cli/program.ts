// Builds the `drover` command tree. Each command lives in cli/commands/<name>.ts and exports a
// `register…(program)` function; this file only wires them together.
import { Command } from 'commander';
import { runProgram } from './run-program.ts';
import { registerVersion } from './commands/version.ts';
import { registerAgentCommands } from './commands/agent.ts';
import { registerServerAdmin } from './commands/server-admin.ts';
import { buildInfo } from './build-info.ts';
import { registerUser } from './commands/user.ts';
import { registerRole } from './commands/role.ts';
import { registerProject } from './commands/project.ts';
import { registerKubeconfig } from './commands/kubeconfig.ts';
import { registerAudit } from './commands/audit.ts';
import { registerBundle } from './commands/bundle.ts';
import { registerGitRepo } from './commands/gitrepo.ts';
import { registerClusterGroup } from './commands/clustergroup.ts';
import { registerAuth } from './commands/auth.ts';
import { registerLogin } from './commands/login.ts';
import { registerShell } from './commands/shell.ts';
import { registerSecret } from './commands/secret.ts';
import { registerNode } from './commands/node.ts';
import { registerPlan } from './commands/plan.ts';
import { registerUpgradeKubernetes } from './commands/upgrade-kubernetes.ts';
import { registerRelease } from './commands/release.ts';
import { registerUpgrade } from './commands/upgrade.ts';

export function buildProgram(): Command {
  const program = new Command('drover')
    .description('Drover: edge-first Kubernetes management (server, agents, fleet)')
    .version(buildInfo().version, '-v, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    // Options belong to the command they follow (`server --data-dir` vs `server backup --data-dir`).
    .enablePositionalOptions();
  registerVersion(program);
  registerAgentCommands(program);
  registerServerAdmin(program);
  registerUser(program);
  registerRole(program);
  registerProject(program);
  registerKubeconfig(program);
  registerAudit(program);
  registerBundle(program);
  registerGitRepo(program);
  registerClusterGroup(program);
  registerAuth(program);
  registerLogin(program);
  registerShell(program);
  registerSecret(program);
  registerNode(program);
  registerPlan(program);
  registerRelease(program);
  registerUpgrade(program, [registerUpgradeKubernetes]);
  return program;
}

/** Runs the CLI; resolves to the process exit code. Usage errors exit 2 (ARCHITECTURE.md §3). */
export async function runCli(argv: string[]): Promise<number> {
  return runProgram(buildProgram(), argv);
}
