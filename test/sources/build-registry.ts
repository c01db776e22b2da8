// Builds the CNCF distribution registry (the OCI registry Helm pushes charts to in the source
// tests) from its Go module into ~/.cache/drover/registry/<version>/registry, once. Quick when
// cached. Usage: node test/sources/build-registry.ts
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_VERSION = 'v3.1.2';

export function registryBinary(version = REGISTRY_VERSION): string {
  return join(homedir(), '.cache', 'drover', 'registry', version, 'registry');
}

export function buildRegistry(version = REGISTRY_VERSION): string {
  const bin = registryBinary(version);
  if (existsSync(bin)) return bin;
  const dir = join(homedir(), '.cache', 'drover', 'registry', version);
  const tmp = join(dir, '.tmp');
  mkdirSync(tmp, { recursive: true });
  const started = Date.now();
  process.stderr.write(`sources harness: building distribution registry ${version}\n`);
  const r = spawnSync('go', ['install', '-trimpath', '-ldflags=-s -w', `github.com/distribution/distribution/v3/cmd/registry@${version}`], {
    env: { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false', GOBIN: tmp },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`go install of the distribution registry ${version} failed (exit ${r.status})`);
  renameSync(join(tmp, 'registry'), bin);
  process.stderr.write(`sources harness: built registry ${version} in ${((Date.now() - started) / 1000).toFixed(0)}s\n`);
  return bin;
}

if (import.meta.url === `file://${process.argv[1]}`) buildRegistry();
