// Reading files of a bundle directory safely: every path named in fleet.yaml must stay inside the
// bundle (no `../` escapes, no symlink out), reads are bounded, and the walk skips what is not content.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { FleetError } from './errors.ts';
import { FLEET_LIMITS } from './limits.ts';

/** Resolves `rel` inside `dir`, refusing paths (or symlinks) that leave it. */
export async function insideBundle(dir: string, rel: string, bundle: string): Promise<string> {
  const root = await realpath(dir);
  const target = resolve(root, rel);
  const escapes = (p: string): boolean => p !== root && !p.startsWith(root + sep);
  if (escapes(target)) throw new FleetError('PATH_ESCAPES_BUNDLE', `bundle ${bundle}: "${rel}" is outside the bundle directory`, { bundle });
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    throw new FleetError('BUNDLE_NOT_FOUND', `bundle ${bundle}: "${rel}" does not exist`, { bundle, file: rel });
  }
  if (escapes(real)) throw new FleetError('PATH_ESCAPES_BUNDLE', `bundle ${bundle}: "${rel}" links outside the bundle directory`, { bundle });
  return real;
}

export async function readBounded(path: string, label: string, bundle: string): Promise<string> {
  const st = await stat(path);
  if (st.size > FLEET_LIMITS.maxSourceFileBytes) {
    throw new FleetError('RENDER_TOO_LARGE', `bundle ${bundle}: ${label} is larger than ${FLEET_LIMITS.maxSourceFileBytes} bytes`, { bundle, file: label });
  }
  return readFile(path, 'utf8');
}

/**
 * Refuses a bundle holding a symlink that resolves outside it (or nowhere). A git repository can
 * carry `chart/files/x -> /etc/shadow`; helm's .Files.Get or a plain-YAML read would then put a
 * server file into a bundle. Checked once per bundle before any renderer runs.
 */
export async function assertNoEscapingLinks(dir: string, bundle: string, depth = 0, root?: string): Promise<void> {
  const top = root ?? (await realpath(dir));
  if (depth > FLEET_LIMITS.maxDiscoveryDepth) return;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === '.git') continue;
    const full = join(dir, e.name);
    if (e.isSymbolicLink()) {
      const rel = relative(top, full);
      const real = await realpath(full).catch(() => undefined);
      if (real === undefined || (real !== top && !real.startsWith(top + sep))) {
        throw new FleetError('PATH_ESCAPES_BUNDLE', `bundle ${bundle}: symlink "${rel}" points outside the bundle directory`, { bundle, file: rel });
      }
    } else if (e.isDirectory()) {
      await assertNoEscapingLinks(full, bundle, depth + 1, top);
    }
  }
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

/**
 * Manifest files of a plain-YAML bundle, relative paths sorted: every .yaml/.yml/.json except
 * fleet.yaml, `overlays/`, hidden entries, and sub-directories that hold their own fleet.yaml
 * (those are other bundles). Symlinked files count (assertNoEscapingLinks keeps them inside the
 * bundle); symlinked directories are not followed, so a link loop cannot multiply objects.
 */
export async function listManifestFiles(dir: string, depth = 0, base = dir): Promise<string[]> {
  if (depth > FLEET_LIMITS.maxDiscoveryDepth) return [];
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      if (depth === 0 && e.name === 'overlays') continue;
      const nested = await readdir(full);
      if (nested.includes('fleet.yaml')) continue;
      out.push(...(await listManifestFiles(full, depth + 1, base)));
    } else if (MANIFEST_EXT.test(e.name) && !(depth === 0 && e.name === 'fleet.yaml')) {
      const isFile = e.isFile() || (e.isSymbolicLink() && (await stat(full).then((s) => s.isFile(), () => false)));
      if (isFile) out.push(relative(base, full));
    }
  }
  return out.sort();
}
