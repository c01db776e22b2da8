// Step 4 of `npm run package`: what ships besides the executables: dist/sha256sums, the sizes
// report and the air-gap tarballs (executable, install.sh, units, sha256sums, README).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { airgapName, artifactName, UNITS, type Target } from './targets.ts';
import { runTool } from './tool.ts';

export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** `sha256sum` format (two spaces, bare names), so `sha256sum -c sha256sums` works. */
export function sha256sumsText(files: readonly string[]): string {
  return files.map((f) => `${sha256File(f)}  ${path.basename(f)}\n`).join('');
}

export interface SizeReport {
  artifact: string;
  rawBytes: number;
  gzipBytes: number;
}

/** Raw and gzip -6 size: the figure the 45 MiB budget of issue 7 is about. */
export function measure(file: string): SizeReport {
  const bytes = fs.readFileSync(file);
  return { artifact: path.basename(file), rawBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 6 }).length };
}

export const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Builds dist/drover-airgap-linux-<arch>.tar.gz with one top directory. Owner, order and times
 * are fixed so the same inputs give the same bytes (reviewable checksums).
 */
export interface AirgapSigning {
  /** dist/VERSION, listed in the tarball's own sha256sums (issue 16). */
  versionFile: string;
  /** Signs the tarball's sha256sums into sha256sums.sig, so `drover agent upgrade --from` can verify it. */
  sign: (sumsText: string) => string;
}

export function buildAirgap(repoRoot: string, distDir: string, target: Target, workDir: string, signing?: AirgapSigning): string {
  const top = `drover-airgap-linux-${target.arch}`;
  const stage = path.join(workDir, top);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(path.join(stage, 'systemd'), { recursive: true });
  const exe = path.join(stage, artifactName(target));
  fs.copyFileSync(path.join(distDir, artifactName(target)), exe);
  fs.chmodSync(exe, 0o755);
  fs.copyFileSync(path.join(repoRoot, 'packaging', 'install.sh'), path.join(stage, 'install.sh'));
  fs.chmodSync(path.join(stage, 'install.sh'), 0o755);
  fs.copyFileSync(path.join(repoRoot, 'packaging', 'airgap-README.md'), path.join(stage, 'README.md'));
  const units = UNITS.map((u) => {
    const dest = path.join(stage, 'systemd', u);
    fs.copyFileSync(path.join(repoRoot, 'systemd', u), dest);
    return dest;
  });
  const summed = [exe, path.join(stage, 'install.sh'), path.join(stage, 'README.md')];
  if (signing) {
    fs.copyFileSync(signing.versionFile, path.join(stage, 'VERSION'));
    summed.unshift(path.join(stage, 'VERSION'));
  }
  const sums = sha256sumsText(summed) + units.map((u) => `${sha256File(u)}  systemd/${path.basename(u)}\n`).join('');
  fs.writeFileSync(path.join(stage, 'sha256sums'), sums);
  if (signing) fs.writeFileSync(path.join(stage, 'sha256sums.sig'), signing.sign(sums));
  const out = path.join(distDir, airgapName(target));
  const tarFile = path.join(workDir, `${top}.tar`);
  runTool('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', tarFile, '-C', workDir, top]);
  // gzip -n: no name or time in the header, so the tarball is reproducible.
  runTool('sh', ['-c', 'gzip -n -6 -c "$1" > "$2"', 'gzip', tarFile, `${out}.tmp`]);
  fs.renameSync(`${out}.tmp`, out);
  fs.rmSync(tarFile, { force: true });
  return out;
}
