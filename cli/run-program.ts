// Runs a commander program and maps its outcome to the contract exit codes (ARCHITECTURE.md §3):
// shared by the full CLI (cli/program.ts) and the agent-only entry point (cli/agent-main.ts).
import { CommanderError, type Command } from 'commander';
import { EXIT } from './exit-codes.ts';

/** Resolves to the process exit code. Usage errors exit 2; help and version exit 0. */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return EXIT.OK;
      }
      return EXIT.USAGE;
    }
    throw err;
  }
}
