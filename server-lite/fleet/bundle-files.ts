// Reading files of a bundle directory safely: every path named in fleet.yaml must stay inside the
// bundle (no `../` escapes, no symlink out), reads are bounded, and the walk skips what is not content.
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
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
  const st = await lstat(path);
  if (st.size > FLEET_LIMITS.maxSourceFileBytes) {
    throw new FleetError('RENDER_TOO_LARGE', `bundle ${bundle}: ${label} is larger than ${FLEET_LIMITS.maxSourceFileBytes} bytes`, { bundle, file: label });
  }
  return readFile(path, 'utf8');
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

/**
 * Manifest files of a plain-YAML bundle, relative paths sorted: every .yaml/.yml/.json except
 * fleet.yaml, `overlays/`, hidden entries, and sub-directories that hold their own fleet.yaml
 * (those are other bundles).
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
    } else if (e.isFile() && MANIFEST_EXT.test(e.name) && !(depth === 0 && e.name === 'fleet.yaml')) {
      out.push(relative(base, full));
    }
  }
  return out.sort();
}
