// The single executable's entry point (issue 25). `drover agent …` — what runs on a device — is
// served here by the agent commands alone; every other command loads the full CLI (cli/main.ts),
// which the packaged executable carries as a separate asset (packaging/bundle.ts). So a device's
// `drover agent run` never parses or evaluates the server, the admin CLI or their dependencies;
// test/integration/agent-entry.test.ts keeps that true.
import { isSea } from 'node:sea';
import { Command } from 'commander';
import { reexecServerWithJit } from '../packaging/runtime/jit-for-server.ts';
import { registerAgentCommands } from './commands/agent.ts';
import { EXIT } from './exit-codes.ts';
import { runProgram } from './run-program.ts';

/** `drover agent …` and nothing else; `drover --help`, `drover version` and the rest go to the full CLI. */
export function isAgentCommand(argv: readonly string[]): boolean {
  return argv[0] === 'agent';
}

function agentProgram(): Command {
  const program = new Command('drover')
    .description('Drover: edge-first Kubernetes management (server, agents, fleet)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .enablePositionalOptions();
  registerAgentCommands(program);
  return program;
}

const argv = process.argv.slice(2);
if (isAgentCommand(argv)) {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  runProgram(agentProgram(), argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`drover: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = EXIT.FAILURE;
    },
  );
} else {
  reexecServerWithJit(isSea());
  // The full CLI runs itself on import (cli/main.ts); in the executable this is a separate asset.
  void import('./main.ts');
}
