// `drover agent fetch-artifact NAME --sha256 HEX --to PATH` (issue 15): the step of a Kubernetes
// upgrade plan that brings a binary from the server onto the node, verified (agents/node/artifact-fetch.ts).
// Run by the node agent's plan, as root, with the agent's data dir; a person can run it too.
import { Option, type Command } from 'commander';
import { resolveDataDir, DEFAULT_DATA_DIR } from '../../agents/common/config.ts';
import { AgentError, describeError } from '../../agents/common/errors.ts';
import { AgentStore } from '../../agents/common/store.ts';
import { fetchArtifact } from '../../agents/node/artifact-fetch.ts';
import { EXIT } from '../exit-codes.ts';

export function registerAgentFetchArtifact(agent: Command): void {
  agent
    .command('fetch-artifact')
    .description('fetch an artifact the server imported (a Kubernetes binary) and verify its SHA-256 before it is written in place')
    .argument('<name>', 'kubernetes/<version>/<binary>')
    .requiredOption('--sha256 <hex>', 'the SHA-256 the file must have')
    .requiredOption('--to <path>', 'where to write it (absolute; written as PATH.part, renamed when verified)')
    .addOption(new Option('--data-dir <dir>', `agent state directory (default ${DEFAULT_DATA_DIR})`).env('DROVER_AGENT_DATA_DIR'))
    .addHelpText('after', '\nExit codes: 1 checksum mismatch or server error (nothing written at --to), 2 bad arguments, 3 server unreachable.\n\nExample:\n  drover agent fetch-artifact kubernetes/v1.34.4/kube-apiserver --sha256 9f…e1 --to /var/lib/drover/kubernetes-upgrade/v1.34.4/kube-apiserver')
    .action(async (name: string, opts: { sha256: string; to: string; dataDir?: string }) => {
      try {
        const dataDir = resolveDataDir(opts.dataDir);
        const store = AgentStore.open(dataDir, { create: false });
        let id;
        try {
          id = store.requireIdentity(dataDir);
        } finally {
          store.close();
        }
        const r = await fetchArtifact(id, name, opts.sha256, opts.to);
        process.stdout.write(`${name}: ${r.bytes} bytes, SHA-256 ${r.sha256} verified, written to ${opts.to}\n`);
        process.exitCode = EXIT.OK;
      } catch (err) {
        if (!(err instanceof AgentError)) throw err;
        process.stderr.write(`drover: ${describeError(err)}\n`);
        process.exitCode = err.exitCode;
      }
    });
}
