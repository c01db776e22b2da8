// `drover version [--json]`: contract shape {"version","protocols","runtime","arch"} (ARCHITECTURE.md §3).
import type { Command } from 'commander';
import { buildInfo } from '../build-info.ts';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print version, supported protocol versions, runtime and architecture')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  drover version --json')
    .action((opts: { json?: boolean }) => {
      const info = buildInfo();
      if (opts.json) {
        process.stdout.write(JSON.stringify(info) + '\n');
        return;
      }
      process.stdout.write(
        `drover ${info.version}\nprotocols: ${info.protocols.join(', ')}\nruntime: ${info.runtime}\narch: ${info.arch}\n`,
      );
    });
}
