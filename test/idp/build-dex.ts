// Builds Dex (the OIDC provider the identity tests log in against) from its Go module into
// ~/.cache/drover/dex/<version>/bin/dex, once. The wrapper module test/idp/modules/dex pins the
// release (tag v2.45.1 as a pseudo-version: Dex's module path has no /v2, so its v2 tags are not
// module versions) and the cache key covers the module files, so a version bump rebuilds and a
// warm run returns at once. Usage: node test/idp/build-dex.ts [--force]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEX_VERSION = 'v2.45.1';
const MODULE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'modules', 'dex');
const GO_ENV = { GOTOOLCHAIN: 'local', CGO_ENABLED: '0', GOFLAGS: '-mod=readonly -buildvcs=false' };

export function dexDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DROVER_DEX_CACHE ?? join(env.HOME ?? homedir(), '.cache', 'drover', 'dex', DEX_VERSION);
}

export const dexBinary = (env: NodeJS.ProcessEnv = process.env): string => join(dexDir(env), 'bin', 'dex');

function moduleKey(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(MODULE_DIR).sort()) h.update(f).update(readFileSync(join(MODULE_DIR, f)));
  const go = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8', env: { ...process.env, ...GO_ENV } });
  return h.update(go.stdout.trim()).digest('hex').slice(0, 16);
}

/** Builds Dex when missing or stale; returns the binary's path. */
export function ensureDex(opts: { force?: boolean } = {}): string {
  const bin = dexBinary();
  const stamp = join(dexDir(), '.stamp');
  const key = moduleKey();
  if (!opts.force && existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === key) return bin;
  mkdirSync(dirname(bin), { recursive: true });
  const tmp = `${bin}.tmp`;
  const started = Date.now();
  process.stderr.write(`idp harness: building dex ${DEX_VERSION}\n`);
  const r = spawnSync('go', ['build', '-trimpath', '-ldflags', `-s -w -X main.version=${DEX_VERSION}`, '-o', tmp, 'github.com/dexidp/dex/cmd/dex'], {
    cwd: MODULE_DIR,
    env: { ...process.env, ...GO_ENV },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`go build dex failed (exit ${r.status}):\n${(r.stderr ?? '').slice(-4000)}`);
  // Moved into place only after a whole build, so a half build never looks finished.
  renameSync(tmp, bin);
  writeFileSync(stamp, `${key}\n`);
  process.stderr.write(`idp harness: built dex in ${((Date.now() - started) / 1000).toFixed(0)}s\n`);
  return bin;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.stderr.write(`idp harness: dex ready at ${ensureDex({ force: process.argv.includes('--force') })}\n`);
  } catch (err) {
    process.stderr.write(`idp harness: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
