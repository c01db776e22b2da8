// Entry point of the `drover` executable (from a checkout: ./bin/drover; packaged: the SEA main).
import { runCli } from './program.ts';
import { EXIT } from './exit-codes.ts';

// `drover … | head`: the reader went away; stop quietly, as other command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`drover: ${message}\n`);
    process.exitCode = EXIT.FAILURE;
  },
);
