// Where the single executable may write files it extracts from itself (the SQLite addon).
// Pure decision from the environment: systemd's CacheDirectory= first, never a temp directory.
import path from 'node:path';

/** Directories anyone may write into; an addon loaded from there could be swapped. */
const TEMP_ROOTS: readonly string[] = Object.freeze(['/tmp', '/var/tmp', '/dev/shm', '/run/shm']);

export function isTempPath(dir: string): boolean {
  const abs = path.resolve(dir);
  return TEMP_ROOTS.some((root) => abs === root || abs.startsWith(`${root}/`));
}

/** systemd passes `CACHE_DIRECTORY`/`STATE_DIRECTORY` as colon-separated absolute paths. */
function firstOf(list: string | undefined): string | undefined {
  const first = list?.split(':')[0];
  return first && path.isAbsolute(first) ? first : undefined;
}

/**
 * Picks the directory for extracted files, in order: `DROVER_CACHE_DIR`; the unit's
 * `CacheDirectory=`; its `StateDirectory=`; `/var/cache/drover` for root; the user's XDG cache.
 * Returns undefined when none applies (the caller reports NATIVE_CACHE_DIR_UNAVAILABLE).
 */
export function chooseCacheDir(env: Readonly<Record<string, string | undefined>>, uid: number): string | undefined {
  const explicit = env['DROVER_CACHE_DIR'];
  if (explicit && path.isAbsolute(explicit)) return explicit;
  const cache = firstOf(env['CACHE_DIRECTORY']);
  if (cache) return cache;
  const state = firstOf(env['STATE_DIRECTORY']);
  if (state) return path.join(state, 'cache');
  if (uid === 0) return '/var/cache/drover';
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'drover');
  const home = env['HOME'];
  if (home && path.isAbsolute(home) && home !== '/') return path.join(home, '.cache', 'drover');
  return undefined;
}
