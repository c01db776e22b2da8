// Where the harness keeps its builds: ~/.cache/drover/k8s/<version>/bin (ARCHITECTURE.md §3),
// overridable with DROVER_K8S_CACHE for tests of the build itself.
import { homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { K8S_VERSION } from './components.ts';

export const HARNESS_DIR = dirname(fileURLToPath(import.meta.url));
export const MODULES_DIR = join(HARNESS_DIR, 'modules');

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.DROVER_K8S_CACHE ?? join(env.HOME ?? homedir(), '.cache', 'drover', 'k8s', K8S_VERSION);
}

export function binDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'bin');
}

export function binary(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(binDir(env), name);
}
