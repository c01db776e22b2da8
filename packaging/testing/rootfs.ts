// Minimal Debian root filesystems without Node.js, for running the executables and install.sh
// the way a fresh edge device would (issue 7). Built once with debootstrap, cached under
// ~/.cache/drover/rootfs/<key>, and copied into a scratch root per test.
//   amd64: minbase + curl, ca-certificates, systemd (so `systemctl enable` is the real one)
//   arm64: first stage only (`--foreign`): packages unpacked, nothing configured; enough to run
//          the executable through qemu-aarch64-static copied into the root, without touching the
//          host's binfmt_misc registrations.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { droverCacheDir } from '../node-runtime.ts';

export type RootArch = 'amd64' | 'arm64';

export const DEBIAN_SUITE = 'bookworm';
export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const INCLUDE: Record<RootArch, readonly string[]> = { amd64: ['curl', 'ca-certificates', 'systemd'], arm64: [] };
/** Where qemu sits inside an arm64 root; every arm64 command is run through it. */
export const QEMU_IN_ROOT = '/usr/local/lib/drover-test/qemu-aarch64-static';
/** A clean environment for commands in a root: nothing from the host (NODE_*, proxies) leaks in. */
export const ROOT_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
});

function debootstrapArgs(arch: RootArch, dir: string): string[] {
  const args = ['--variant=minbase', `--arch=${arch}`];
  if (arch === 'arm64') args.push('--foreign');
  const include = INCLUDE[arch];
  if (include.length > 0) args.push(`--include=${include.join(',')}`);
  return [...args, DEBIAN_SUITE, dir, DEBIAN_MIRROR];
}

function run(cmd: string, args: readonly string[]): void {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${res.error?.message ?? `exit ${res.status}`}):\n${(res.stderr ?? '').slice(-3000)}`);
  }
}

/** The cached golden root for `arch`, built on first use (about 45 s amd64, 15 s arm64). */
export function goldenRoot(arch: RootArch): string {
  const key = createHash('sha256').update(JSON.stringify(debootstrapArgs(arch, '')) + QEMU_IN_ROOT).digest('hex').slice(0, 16);
  const base = path.join(droverCacheDir(), 'rootfs');
  const dir = path.join(base, `${DEBIAN_SUITE}-${arch}-${key}`);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  fs.mkdirSync(base, { recursive: true });
  // Everything happens under flock: tap runs two test files at once and only one may build.
  const script = [
    'dir=$1; arch=$2; shift 2',
    '[ -f "$dir/.complete" ] && exit 0',
    'rm -rf "$dir.tmp" "$dir"',
    'debootstrap "$@" >"$dir.log" 2>&1 || { tail -20 "$dir.log" >&2; exit 1; }',
    `if [ "$arch" = arm64 ]; then mkdir -p "$dir.tmp${path.dirname(QEMU_IN_ROOT)}" && cp /usr/bin/qemu-aarch64-static "$dir.tmp${QEMU_IN_ROOT}"; fi`,
    'date -u >"$dir.tmp/.complete" && mv "$dir.tmp" "$dir"',
  ].join('\n');
  run('flock', [path.join(base, `${arch}.lock`), 'sh', '-c', script, 'sh', dir, arch, ...debootstrapArgs(arch, `${dir}.tmp`)]);
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Scratch roots of test processes that died without cleaning up (250 MB each) are removed. */
function removeOrphans(work: string): void {
  for (const name of fs.readdirSync(work)) {
    const pid = Number(/^(?:amd64|arm64)-(\d+)-[0-9a-f]+$/.exec(name)?.[1]);
    if (pid > 0 && !alive(pid)) fs.rmSync(path.join(work, name), { recursive: true, force: true });
  }
}

/** A private copy of the golden root; removed by the returned cleanup. */
export function scratchRoot(arch: RootArch): { dir: string; cleanup: () => void } {
  const golden = goldenRoot(arch);
  const work = path.join(droverCacheDir(), 'roots');
  fs.mkdirSync(work, { recursive: true, mode: 0o700 });
  removeOrphans(work);
  const dir = path.join(work, `${arch}-${process.pid}-${randomBytes(4).toString('hex')}`);
  run('cp', ['-a', golden, dir]);
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface RootResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `argv` inside the root (through qemu for arm64) with ROOT_ENV plus `env`. */
export function inRoot(root: string, arch: RootArch, argv: readonly string[], env: Record<string, string> = {}, unshareNet = false): RootResult {
  const inner = arch === 'arm64' ? [QEMU_IN_ROOT, ...argv] : [...argv];
  const cmd = unshareNet ? 'unshare' : 'chroot';
  const args = unshareNet ? ['-n', 'chroot', root, ...inner] : [root, ...inner];
  const res = spawnSync(cmd, args, { encoding: 'utf8', env: { ...ROOT_ENV, ...env }, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
  return { status: res.status, stdout: res.stdout ?? '', stderr: (res.stderr ?? '') + (res.error ? String(res.error) : '') };
}
