// Bundle discovery in a directory tree (a pushed directory or a git checkout): one bundle per
// directory holding a fleet.yaml; a given path with no fleet.yaml anywhere below is one bundle
// itself (Fleet's rule). Every fleet.yaml is parsed here, so a bad one fails discovery with its path.
import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { insideBundle, readBounded } from './bundle-files.ts';
import { FleetError } from './errors.ts';
import { parseFleetYaml, type FleetYaml } from './fleet-yaml.ts';
import { FLEET_LIMITS } from './limits.ts';

export interface DiscoveredBundle {
  name: string;
  /** Absolute directory of the bundle. */
  dir: string;
  /** Path relative to the root, `.` for the root itself. */
  path: string;
  fleetYaml: FleetYaml;
  /** What Drover ignored in its fleet.yaml (fleet-yaml.ts), shown at apply and in bundle status. */
  warnings: string[];
}

/** Bundle names are DNS-label-like: `prefix-sub-dir`, lowercase, at most 63 characters. */
export function bundleName(prefix: string, path: string): string {
  const parts = [prefix, ...(path === '.' ? [] : path.split(sep))].filter(Boolean);
  const name = parts.join('-').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return name.slice(0, 63).replace(/-+$/, '') || 'bundle';
}

async function findFleetYamlDirs(dir: string, depth: number): Promise<string[]> {
  if (depth > FLEET_LIMITS.maxDiscoveryDepth) return [];
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  if (entries.some((e) => (e.isFile() || e.isSymbolicLink()) && e.name === 'fleet.yaml')) found.push(dir);
  for (const e of entries) {
    // Hidden directories (.git) and symlinked directories are never walked: no loops, no escapes.
    if (e.isDirectory() && !e.name.startsWith('.')) found.push(...(await findFleetYamlDirs(join(dir, e.name), depth + 1)));
  }
  return found;
}

export interface DiscoveryResult {
  bundles: DiscoveredBundle[];
  /** Bundles whose fleet.yaml is bad: reported per bundle so the others still deploy. */
  failed: { name: string; path: string; error: FleetError }[];
}

/** Finds every bundle; a bad fleet.yaml fails only its bundle, a bad path fails the scan. */
export async function scanBundles(root: string, opts: { paths?: readonly string[] | undefined; prefix?: string; strict?: boolean | undefined } = {}): Promise<DiscoveryResult> {
  const absRoot = resolve(root);
  const prefix = opts.prefix ?? basename(absRoot);
  const paths = opts.paths && opts.paths.length > 0 ? opts.paths : ['.'];
  const dirs = new Set<string>();
  for (const p of paths) {
    const abs = resolve(absRoot, p);
    if (abs !== absRoot && !abs.startsWith(absRoot + sep)) {
      throw new FleetError('PATH_ESCAPES_BUNDLE', `path "${p}" is outside the source directory`, { file: p });
    }
    const st = await stat(abs).catch(() => undefined);
    if (!st?.isDirectory()) throw new FleetError('BUNDLE_NOT_FOUND', `path "${p}" is not a directory in the source`, { file: p });
    const withYaml = await findFleetYamlDirs(abs, 0);
    for (const d of withYaml.length > 0 ? withYaml : [abs]) dirs.add(d);
  }
  const result: DiscoveryResult = { bundles: [], failed: [] };
  const names = new Map<string, string>();
  for (const dir of [...dirs].sort()) {
    const path = relative(absRoot, dir) || '.';
    const name = bundleName(prefix, path);
    const clash = names.get(name);
    if (clash !== undefined) throw new FleetError('MANIFEST_DUPLICATE', `paths "${clash}" and "${path}" both make bundle "${name}"`, { bundle: name });
    names.set(name, path);
    const file = path === '.' ? 'fleet.yaml' : join(path, 'fleet.yaml');
    try {
      // A fleet.yaml symlinked out of the bundle must not be read: its keys would echo in errors.
      const exists = await lstat(join(dir, 'fleet.yaml')).then(() => true, () => false);
      const text = exists ? await readBounded(await insideBundle(dir, 'fleet.yaml', name), file, name) : '';
      const parsed = parseFleetYaml(text, file, { strict: opts.strict === true });
      result.bundles.push({ name, dir, path, fleetYaml: parsed.fleetYaml, warnings: parsed.warnings });
    } catch (e) {
      if (!(e instanceof FleetError)) throw e;
      result.failed.push({ name, path, error: new FleetError(e.code, e.message, { ...e.context, bundle: name }) });
    }
  }
  return result;
}

/** Like scanBundles, but any bad fleet.yaml fails the whole call (for `drover bundle apply DIR`). */
export async function discoverBundles(root: string, opts: { paths?: readonly string[] | undefined; prefix?: string; strict?: boolean | undefined } = {}): Promise<DiscoveredBundle[]> {
  const r = await scanBundles(root, opts);
  const first = r.failed[0];
  if (first) throw first.error;
  return r.bundles;
}
