// The tests' copy of `npm run package` output: built (or refreshed from the content cache) once per
// test file into ~/.cache/drover/test-dist, under a lock so parallel test files never interleave.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { droverCacheDir } from '../node-runtime.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface BuiltDist {
  dir: string;
  /** What `npm run package` printed (sizes), for test comments. */
  log: string;
}

export function builtDist(): BuiltDist {
  const dir = path.join(droverCacheDir(), 'test-dist');
  fs.mkdirSync(dir, { recursive: true });
  const res = spawnSync(
    'flock',
    [path.join(droverCacheDir(), 'test-dist.lock'), process.execPath, path.join(REPO_ROOT, 'packaging', 'build.ts'), '--out', dir],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60 * 1000 },
  );
  if (res.status !== 0) throw new Error(`npm run package failed:\n${res.stdout}\n${res.stderr}`);
  return { dir, log: res.stdout };
}

/**
 * `npm run package` output for this checkout only, in a directory of its own (the shared test-dist
 * may be rebuilt from another checkout between a build and its use): built once, then a cache hit
 * (packaging/build.ts reuses unchanged executables). `arches` empty: both CPUs.
 */
export function checkoutDist(arches: readonly ('amd64' | 'arm64')[] = []): BuiltDist {
  const tag = createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12);
  const dir = path.join(droverCacheDir(), `test-dist-${tag}${arches.length > 0 ? `-${arches.join('-')}` : ''}`);
  const res = spawnSync(
    'flock',
    [`${dir}.lock`, process.execPath, path.join(REPO_ROOT, 'packaging', 'build.ts'), '--out', dir, '--no-airgap', ...arches.flatMap((a) => ['--arch', a])],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60 * 1000 },
  );
  if (res.status !== 0) throw new Error(`npm run package failed:\n${res.stdout}\n${res.stderr}`);
  return { dir, log: res.stdout };
}
