// Builds the CNCF distribution registry (the OCI registry Helm pushes charts to in the source
// tests) from its Go module into ~/.cache/drover/registry/<version>/registry, once. The wrapper
// module in registry-module/ links only htpasswd auth and the filesystem driver (upstream's
// cmd/registry also links the Azure, GCS and S3 SDKs). Rebuilt only when the wrapper changes, so
// a warm run returns at once. Usage: node test/sources/build-registry.ts
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_VERSION = 'v3.1.2';
const MODULE_DIR = join(import.meta.dirname, 'registry-module');

export function registryBinary(version = REGISTRY_VERSION): string {
  return join(homedir(), '.cache', 'drover', 'registry', version, 'registry');
}

function moduleKey(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(MODULE_DIR).sort()) h.update(f).update(readFileSync(join(MODULE_DIR, f)));
  return h.digest('hex').slice(0, 16);
}

export function buildRegistry(version = REGISTRY_VERSION): string {
  const bin = registryBinary(version);
  const stamp = `${bin}.stamp`;
  const key = moduleKey();
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === key) return bin;
  mkdirSync(join(bin, '..'), { recursive: true });
  const started = Date.now();
  process.stderr.write(`sources harness: building the distribution registry ${version}\n`);
  const tmp = `${bin}.tmp`;
  const r = spawnSync('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', tmp, '.'], {
    cwd: MODULE_DIR,
    env: { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0', GOFLAGS: '-mod=readonly -buildvcs=false' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`building the distribution registry ${version} failed (exit ${r.status}); see above`);
  renameSync(tmp, bin);
  writeFileSync(stamp, `${key}\n`);
  process.stderr.write(`sources harness: built the registry ${version} in ${((Date.now() - started) / 1000).toFixed(0)}s\n`);
  return bin;
}

if (import.meta.url === `file://${process.argv[1]}`) buildRegistry();
