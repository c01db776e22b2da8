// Builds the older kube-apiserver the Kubernetes-upgrade test upgrades from (issue 15) into
// ~/.cache/drover/k8s/<UPGRADE_FROM_VERSION>/bin, once; quick when cached (same stamp rule as
// build.ts). Usage: node test/k8s/build-upgrade-from.ts [--force]
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { buildComponent, goVersion, isBuilt } from './build.ts';
import { UPGRADE_FROM_COMPONENT, UPGRADE_FROM_VERSION } from './components.ts';

export function upgradeFromBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.HOME ?? homedir(), '.cache', 'drover', 'k8s', UPGRADE_FROM_VERSION, 'bin');
}

export async function ensureUpgradeFromBinaries(opts: { force?: boolean } = {}): Promise<string> {
  const out = upgradeFromBinDir();
  mkdirSync(out, { recursive: true });
  const gover = await goVersion();
  if (opts.force || !isBuilt(UPGRADE_FROM_COMPONENT, gover, out)) await buildComponent(UPGRADE_FROM_COMPONENT, gover, out);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  ensureUpgradeFromBinaries({ force: process.argv.includes('--force') }).then(
    (dir) => process.stderr.write(`k8s harness: ${UPGRADE_FROM_VERSION} kube-apiserver ready in ${dir} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`),
    (err: unknown) => {
      process.stderr.write(`k8s harness: build failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
