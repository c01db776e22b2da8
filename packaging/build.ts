// `npm run package` (issue 7): esbuild bundle → SEA blob → stripped Node 24 per CPU → executables,
// dist/sha256sums, sizes, air-gap tarballs. Executables and tarballs are cached by content under
// ~/.cache/drover/sea, so a rebuild with unchanged inputs only copies files.
//   node packaging/build.ts [--out DIR] [--arch amd64|arm64]... [--no-airgap]
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { parseArgs } from 'node:util';
import { buildAirgap, measure, mib, sha256File, sha256sumsText, type SizeReport } from './artifacts.ts';
import { bundleApp } from './bundle.ts';
import { PackagingError, PACKAGING_ERRORS } from './errors.ts';
import { droverCacheDir, officialNode, strippedNode } from './node-runtime.ts';
import { buildExecutable } from './sea.ts';
import { loadReleaseKey, signText } from './release-signing.ts';
import { buildInfo } from '../cli/build-info.ts';
import { airgapName, artifactName, GZIP_BUDGET_BYTES, NODE_VERSION, SEA_CODE_CACHE, SEA_EXEC_ARGV, TARGETS, UNITS, type Target } from './targets.ts';

export interface BuildOptions {
  repoRoot: string;
  outDir: string;
  arches: readonly Target['arch'][];
  airgap: boolean;
  cacheDir: string;
  log: (line: string) => void;
  /** Build as this version instead of package.json's (tests: a second release of the same tree). */
  versionOverride?: string | undefined;
}

export interface BuildResult {
  executables: string[];
  tarballs: string[];
  sizes: SizeReport[];
}

function hashOf(parts: readonly (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 32);
}

/** Cache entries kept per kind (`amd64-…`, `airgap-arm64-…`): each is 40–115 MiB, and every code change makes new ones. */
export const CACHE_KEEP = 4;

/** Drops all but the `keep` most recently used entries of `dir` whose names start with `prefix`. */
export function pruneCache(dir: string, prefix: string, keep: number = CACHE_KEEP): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.startsWith(prefix) && /^[0-9a-f]{32}$/.test(n.slice(prefix.length)));
  } catch {
    return [];
  }
  const byAge = names.map((n) => ({ n, t: fs.statSync(path.join(dir, n)).mtimeMs })).sort((a, b) => b.t - a.t);
  const gone = byAge.slice(keep).map((e) => e.n);
  for (const n of gone) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
  return gone;
}

/** Produces `file` through `make` unless a cached copy under `key` exists; then copies it out. */
function cachedCopy(cacheFile: string, out: string, make: (dest: string) => void): boolean {
  const hit = fs.existsSync(cacheFile);
  if (!hit) {
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    make(tmp);
    fs.renameSync(tmp, cacheFile);
  }
  // Marks the entry as just used, so pruning keeps it.
  const now = new Date();
  fs.utimesSync(path.dirname(cacheFile), now, now);
  fs.copyFileSync(cacheFile, `${out}.tmp`);
  fs.chmodSync(`${out}.tmp`, 0o755);
  fs.renameSync(`${out}.tmp`, out);
  return hit;
}

/** Writes `file`.br (brotli, best quality, 16 MiB window) and returns its path. */
function brotliFile(file: string): string {
  const out = `${file}.br`;
  fs.writeFileSync(out, zlib.brotliCompressSync(fs.readFileSync(file), {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_LGWIN]: 24, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT },
  }));
  return out;
}

export async function buildAll(opts: BuildOptions): Promise<BuildResult> {
  const work = path.join(opts.outDir, '.build');
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const app = await bundleApp(opts.repoRoot, work, opts.versionOverride);
  const bundle = app.seaMain;
  for (const [name, b] of [['SEA main', bundle] as const, ...Object.entries(app.assets)]) {
    opts.log(`bundle ${name}: ${mib(b.bytes)} (${b.warnings.length} esbuild warnings)`);
    for (const w of b.warnings) opts.log(`  warning ${w}`);
  }
  const bundleBytes = [bundle.file, ...Object.values(app.assets).map((b) => b.file)].map((f) => fs.readFileSync(f));
  // Issue 25, decision 1140: the asset bundles travel brotli-compressed (packaging/runtime/
  // asset-module.ts inflates one on first use); the SEA main cannot be, Node reads it as is, so
  // it is a stub that runs the agent's script from its asset (decision 1220).
  // Compressed once, and only when an executable is not in the cache.
  let compressed: Record<string, string> | undefined;
  const appAssets = (): Record<string, string> => (compressed ??= Object.fromEntries(Object.entries(app.assets).map(([name, b]) => [name, brotliFile(b.file)])));
  // Issue 16: the release key signs dist/sha256sums; its public half goes into every executable.
  const releaseKey = loadReleaseKey(process.env, opts.cacheDir);
  const releasePublicKey = path.join(work, 'release-public-key.pem');
  fs.writeFileSync(releasePublicKey, releaseKey.publicKeyPem);
  opts.log(`release key: ${releaseKey.source}`);

  const executables: string[] = [];
  const sizes: SizeReport[] = [];
  const targets = TARGETS.filter((t) => opts.arches.includes(t.arch));
  for (const target of targets) {
    const node = strippedNode(officialNode(opts.repoRoot, target, opts.cacheDir), target, opts.cacheDir);
    const addon = fs.readFileSync(path.join(opts.repoRoot, 'node_modules', 'better-sqlite3', target.sqlitePrebuild));
    const installSh = fs.readFileSync(path.join(opts.repoRoot, 'packaging', 'install.sh'));
    const key = hashOf([NODE_VERSION, target.arch, ...bundleBytes, JSON.stringify(SEA_EXEC_ARGV), `code-cache:${SEA_CODE_CACHE}`, 'assets:brotli', 'agent:asset', path.basename(path.dirname(node)), addon, installSh, releaseKey.publicKeyPem]);
    const out = path.join(opts.outDir, artifactName(target));
    const hit = cachedCopy(path.join(opts.cacheDir, 'sea', `${target.arch}-${key}`, 'drover'), out, (dest) =>
      buildExecutable({ repoRoot: opts.repoRoot, bundle: bundle.file, appAssets: appAssets(), node, target, workDir: work, output: dest, releasePublicKey }),
    );
    pruneCache(path.join(opts.cacheDir, 'sea'), `${target.arch}-`);
    const size = measure(out);
    opts.log(`${artifactName(target)}: ${mib(size.rawBytes)} raw, ${mib(size.gzipBytes)} gzip${hit ? ' (cached)' : ''}`);
    if (size.gzipBytes > GZIP_BUDGET_BYTES) {
      throw new PackagingError(
        PACKAGING_ERRORS.BUILD_OVER_BUDGET,
        `${artifactName(target)} is ${mib(size.gzipBytes)} gzipped, over the ${mib(GZIP_BUDGET_BYTES)} budget`,
      );
    }
    fs.writeFileSync(`${out}.sha256`, sha256sumsText([out]));
    executables.push(out);
    sizes.push(size);
  }
  // The release's version, listed (so signed) in sha256sums: what `drover release import` stores it under.
  const versionFile = path.join(opts.outDir, 'VERSION');
  fs.writeFileSync(versionFile, `${opts.versionOverride ?? buildInfo().version}\n`);
  fs.writeFileSync(path.join(opts.outDir, 'sha256sums'), sha256sumsText([versionFile, ...executables]));

  const tarballs: string[] = [];
  if (opts.airgap) {
    const extras = ['packaging/install.sh', 'packaging/airgap-README.md', ...UNITS.map((u) => `systemd/${u}`)];
    const extraBytes = extras.map((f) => fs.readFileSync(path.join(opts.repoRoot, f)));
    for (const target of targets) {
      const exe = path.join(opts.outDir, artifactName(target));
      const key = hashOf([sha256File(exe), ...extraBytes, fs.readFileSync(versionFile), releaseKey.publicKeyPem]);
      const out = path.join(opts.outDir, airgapName(target));
      cachedCopy(path.join(opts.cacheDir, 'sea', `airgap-${target.arch}-${key}`, airgapName(target)), out, (dest) => {
        fs.renameSync(buildAirgap(opts.repoRoot, opts.outDir, target, work, { versionFile, sign: (text) => signText(text, releaseKey) }), dest);
      });
      pruneCache(path.join(opts.cacheDir, 'sea'), `airgap-${target.arch}-`);
      fs.chmodSync(out, 0o644);
      opts.log(`${airgapName(target)}: ${mib(fs.statSync(out).size)}`);
      tarballs.push(out);
    }
    fs.appendFileSync(path.join(opts.outDir, 'sha256sums'), sha256sumsText(tarballs));
  }
  fs.writeFileSync(path.join(opts.outDir, 'sha256sums.sig'), signText(fs.readFileSync(path.join(opts.outDir, 'sha256sums'), 'utf8'), releaseKey));
  fs.writeFileSync(path.join(opts.outDir, 'sizes.json'), JSON.stringify(sizes, null, 2) + '\n');
  fs.rmSync(work, { recursive: true, force: true });
  return { executables, tarballs, sizes };
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      arch: { type: 'string', multiple: true },
      'no-airgap': { type: 'boolean' },
      'version-override': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      [
        'Usage: node packaging/build.ts [--out DIR] [--arch amd64|arm64]... [--no-airgap]',
        '  --out DIR     output directory (default dist/, env DROVER_DIST_DIR)',
        '  --arch A      build only this CPU (repeatable; default both)',
        '  --no-airgap   skip the air-gap tarballs',
        '  --version-override V   build as version V (tests: a second release to upgrade to)',
        'Cache: ~/.cache/drover (env DROVER_BUILD_CACHE). Docs: docs/packaging.md',
        '',
        'Example:',
        '  npm run package -- --arch arm64 --no-airgap',
        '',
      ].join('\n'),
    );
    process.exit(0);
  }
  const repoRoot = path.resolve(import.meta.dirname, '..');
  const arches = (values.arch ?? ['amd64', 'arm64']).map((a) => {
    if (a !== 'amd64' && a !== 'arm64') throw new Error(`--arch ${a}: expected amd64 or arm64`);
    return a;
  });
  const outDir = path.resolve(values.out ?? process.env['DROVER_DIST_DIR'] ?? path.join(repoRoot, 'dist'));
  fs.mkdirSync(outDir, { recursive: true });
  buildAll({
    repoRoot,
    outDir,
    arches,
    airgap: !values['no-airgap'],
    cacheDir: droverCacheDir(),
    versionOverride: values['version-override'],
    log: (line) => process.stdout.write(`package: ${line}\n`),
  }).then(
    () => process.stdout.write(`package: done → ${outDir}\n`),
    (err: unknown) => {
      const code = err instanceof PackagingError ? `${err.code}: ` : '';
      process.stderr.write(`package: ${code}${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
