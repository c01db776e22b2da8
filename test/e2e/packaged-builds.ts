// The packaged amd64 releases the upgrade tests need besides `builtDist()` (this tree as
// `npm run package` builds it): the same tree built as another version (`--version-override`),
// each cached in its own directory of the build cache under its own lock, so parallel test files
// build one copy and a warm cache costs a bundle check, not a build.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../packaging/testing/dist.ts';
import { droverCacheDir } from '../../packaging/node-runtime.ts';
import { buildInfo } from '../../cli/build-info.ts';

/** The release the packaged tests upgrade to (a patch above nothing real; a test build). */
export const NEXT = '0.1.1-next';

/** Other worktrees on this machine build their own trees into the same cache: each gets its own dirs. */
const TREE = createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 8);

/** This tree built as `version` for amd64 (no air-gap tarball), signed with the development key. */
export function builtVersion(version: string, name = `test-dist-${version}-${TREE}`): string {
  const dir = path.join(droverCacheDir(), name);
  fs.mkdirSync(dir, { recursive: true });
  const res = spawnSync('flock', [path.join(droverCacheDir(), `${name}.lock`), process.execPath, path.join(REPO_ROOT, 'packaging', 'build.ts'), '--out', dir, '--arch', 'amd64', '--no-airgap', '--version-override', version], {
    encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60 * 1000,
  });
  if (res.status !== 0) throw new Error(`npm run package --version-override ${version} failed:\n${res.stdout}\n${res.stderr}`);
  return dir;
}

/** The current tree built as NEXT. */
export const builtNext = (): string => builtVersion(NEXT);

/** This tree as installed: its own version, in a directory of this worktree (the shared
 *  `builtDist()` directory may be rebuilt from another worktree while a test runs). */
export const builtCurrent = (): string => builtVersion(buildInfo().version);
