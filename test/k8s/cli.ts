// Command line of the harness: `test/k8s/cluster up DIR` | `down DIR` | `build` | `env DIR`.
import { up, down, readState } from './cluster.ts';
import { ensureBinaries } from './build.ts';
import { binDir } from './paths.ts';

const usage = 'usage: test/k8s/cluster up DIR [--nodes N] | down DIR | status DIR | build [--force]';

async function main(argv: string[]): Promise<number> {
  const [cmd, dir] = argv;
  if (cmd === 'build') {
    await ensureBinaries({ force: argv.includes('--force') });
    process.stdout.write(`${binDir()}\n`);
    return 0;
  }
  if (!dir || (cmd !== 'up' && cmd !== 'down' && cmd !== 'status')) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  if (cmd === 'up') {
    const n = argv.indexOf('--nodes');
    const nodes = n >= 0 ? Number(argv[n + 1]) : 2;
    if (!Number.isInteger(nodes) || nodes < 0) {
      process.stderr.write(`--nodes takes a whole number\n${usage}\n`);
      return 2;
    }
    const s = await up(dir, { nodes });
    process.stdout.write(`cluster up in ${(s.startedMs / 1000).toFixed(1)}s: ${s.server}\nkubeconfig: ${s.kubeconfig}\nbinaries: ${s.binDir}\n`);
    return 0;
  }
  if (cmd === 'status') {
    const s = readState(dir);
    process.stdout.write(s ? JSON.stringify(s, null, 2) + '\n' : `no cluster in ${dir}\n`);
    return s ? 0 : 1;
  }
  await down(dir);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`cluster: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
