// Loads better-sqlite3's native addon inside the single executable (issue 7). A SEA cannot
// `require()` a .node file from inside itself, so the addon travels as a SEA asset, is written
// once to a content-hash-named file in a private cache directory, verified, then dlopen'ed.
// Outside a SEA (a checkout, tests) this returns undefined and better-sqlite3 finds its prebuild.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as nodeSea from 'node:sea';
import { PackagingError, PACKAGING_ERRORS } from '../errors.ts';
import { SQLITE_ASSET, SQLITE_HASH_ASSET } from '../targets.ts';
import { chooseCacheDir, isTempPath } from './cache-dir.ts';

/** The slice of `node:sea` we use, so tests can hand in a fake executable. */
export interface SeaLike {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
}

export interface NativeSqliteDeps {
  sea: SeaLike;
  env: Readonly<Record<string, string | undefined>>;
  uid: number;
  /** `process.dlopen`: loads the addon file into a module object. */
  dlopen: (module: { exports: unknown }, filename: string) => void;
}

const defaultDeps = (): NativeSqliteDeps => ({
  sea: nodeSea,
  env: process.env,
  uid: typeof process.getuid === 'function' ? process.getuid() : -1,
  dlopen: (module, filename) => process.dlopen(module, filename),
});

let loaded: object | undefined;

/**
 * The value to pass as better-sqlite3's `nativeBinding` option: the loaded addon when running
 * as the single executable, undefined otherwise. Memoised: the addon is loaded once per process.
 */
export function nativeSqliteBinding(deps: NativeSqliteDeps = defaultDeps()): object | undefined {
  if (!deps.sea.isSea()) return undefined;
  if (loaded) return loaded;
  const dir = chooseCacheDir(deps.env, deps.uid);
  if (dir === undefined) {
    throw new PackagingError(
      PACKAGING_ERRORS.NATIVE_CACHE_DIR_UNAVAILABLE,
      'no private cache directory for the SQLite addon: run under the systemd unit (CacheDirectory=) or set DROVER_CACHE_DIR',
    );
  }
  // Every start after the first: the addon is on disk already; check it against the embedded hash
  // and load it without reading the addon out of the executable (those pages would stay resident).
  const known = embeddedHash(deps.sea);
  if (known !== undefined) {
    const nativeDir = path.join(dir, 'native');
    ensurePrivateDir(nativeDir, deps.uid);
    const file = path.join(nativeDir, `better_sqlite3-${known}.node`);
    if (matches(file, known, deps.uid)) return load(deps, file);
  }
  let asset: ArrayBuffer;
  try {
    asset = deps.sea.getAsset(SQLITE_ASSET);
  } catch (cause) {
    throw new PackagingError(
      PACKAGING_ERRORS.NATIVE_ADDON_MISSING,
      `this drover executable carries no SQLite addon (${SQLITE_ASSET}); rebuild it with npm run package`,
      { cause },
    );
  }
  return load(deps, extractVerified(new Uint8Array(asset), path.join(dir, 'native'), deps.uid));
}

function load(deps: NativeSqliteDeps, file: string): object {
  const module = { exports: {} as unknown };
  deps.dlopen(module, file);
  loaded = module.exports as object;
  return loaded;
}

/** The addon's SHA-256 the build embedded beside it; undefined for executables built before it. */
function embeddedHash(sea: SeaLike): string | undefined {
  try {
    const hex = new TextDecoder().decode(sea.getAsset(SQLITE_HASH_ASSET)).trim();
    return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
  } catch {
    return undefined;
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Writes `bytes` to `<dir>/better_sqlite3-<sha256>.node` unless an identical file is already
 * there, and returns its path only after re-reading it and matching the hash. The directory is
 * ours alone (0700, our uid), so nobody can swap the file between this check and dlopen.
 */
export function extractVerified(bytes: Uint8Array, dir: string, uid: number): string {
  const want = sha256Hex(bytes);
  ensurePrivateDir(dir, uid);
  const file = path.join(dir, `better_sqlite3-${want}.node`);
  if (matches(file, want, uid)) return file;
  // Write beside the target and rename, so a crash never leaves a half-written addon in place.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(tmp, 0o500);
  fs.renameSync(tmp, file);
  if (!matches(file, want, uid)) {
    throw new PackagingError(
      PACKAGING_ERRORS.NATIVE_ADDON_MISMATCH,
      `the SQLite addon written to ${file} does not match the embedded one; check the disk and remove ${dir}`,
    );
  }
  return file;
}

function matches(file: string, want: string, uid: number): boolean {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return false;
  }
  if (!st.isFile() || (uid >= 0 && st.uid !== uid)) {
    // Not ours or not a plain file (a symlink planted by someone): replace it.
    fs.rmSync(file, { force: true });
    return false;
  }
  return sha256Hex(fs.readFileSync(file)) === want;
}

/** Creates `dir` (0700) if needed and refuses a directory others could write into. */
export function ensurePrivateDir(dir: string, uid: number): void {
  if (isTempPath(dir)) {
    throw new PackagingError(
      PACKAGING_ERRORS.NATIVE_CACHE_DIR_UNSAFE,
      `refusing to extract the SQLite addon under a temporary directory (${dir}); set DROVER_CACHE_DIR to a private directory`,
    );
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  const sharedWritable = (st.mode & 0o022) !== 0;
  if (!st.isDirectory() || sharedWritable || (uid >= 0 && st.uid !== uid)) {
    throw new PackagingError(
      PACKAGING_ERRORS.NATIVE_CACHE_DIR_UNSAFE,
      `refusing to extract the SQLite addon into ${dir}: it must be a directory owned by uid ${uid} and writable by nobody else`,
    );
  }
}

/** For tests: forget the memoised addon. */
export function resetNativeSqliteForTests(): void {
  loaded = undefined;
}
