// Reads the node's facts from the machine (issue 15): files under /etc and /proc, statfs per disk,
// and `--version` of the Kubernetes binaries it finds. Every read is bounded (file size, process
// time) and a failed read leaves that fact out rather than failing the whole report.
import { execFile } from 'node:child_process';
import { accessSync, constants, openSync, readSync, closeSync, statfsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { delimiter, join } from 'node:path';
import { KUBE_DISTRIBUTIONS, detectKubernetes, isControlPlaneProcess, parseMeminfo, parseMounts, parseOsRelease, parseUptime, type KubeOnNode, type MemInfo, type OsRelease } from './facts-parse.ts';

/** System files are small; a larger one is read up to this and parsed as far as it goes. */
const MAX_FILE_BYTES = 256 * 1024;
/** A version probe that hangs (a broken binary, a stuck NFS PATH entry) is killed after this. */
const VERSION_TIMEOUT_MS = 5_000;
/** At most this many disks are reported (facts are bounded, MAX_FACTS_BYTES). */
export const MAX_DISKS = 16;

/** Where the distributions install their binaries besides PATH (systemd units do not share a login PATH). */
const EXTRA_BIN_DIRS = ['/usr/local/bin', '/usr/bin', '/var/lib/rancher/rke2/bin', '/opt/rke2/bin', '/usr/local/sbin', '/usr/sbin'];

/** How each binary tells its version (kubeadm's long form is a Go struct dump). */
const VERSION_ARGS: Record<(typeof KUBE_DISTRIBUTIONS)[number], string[]> = {
  k3s: ['--version'],
  rke2: ['--version'],
  kubeadm: ['version', '-o', 'short'],
  kubelet: ['--version'],
};

export interface Disk {
  mount: string;
  fsType: string;
  sizeBytes: number;
  freeBytes: number;
}

export interface NodeFacts {
  os: OsRelease;
  kernel: string;
  arch: string;
  cpus: number;
  memory: MemInfo;
  disks: Disk[];
  uptimeSeconds: number;
  kubernetes: KubeOnNode;
}

export interface FactsSources {
  /** Root for /etc and /proc (tests point it at a fixture tree). */
  root: string;
  /** PATH to search for the Kubernetes binaries. */
  path: string;
}

export function readText(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(MAX_FILE_BYTES);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function tryRead<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

export function readDisks(mountsText: string): Disk[] {
  const disks: Disk[] = [];
  for (const m of parseMounts(mountsText)) {
    if (disks.length >= MAX_DISKS) break;
    const s = tryRead(() => statfsSync(m.mountPoint, { bigint: false }));
    if (!s) continue;
    disks.push({ mount: m.mountPoint, fsType: m.fsType, sizeBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize });
  }
  return disks;
}

/** The first executable named `name` on `path` or in the distributions' usual directories. */
export function findBinary(name: string, path: string): string | undefined {
  const dirs = [...path.split(delimiter).filter((d) => d !== ''), ...EXTRA_BIN_DIRS];
  for (const dir of dirs) {
    const file = join(dir, name);
    if (tryRead(() => (accessSync(file, constants.X_OK), true))) return file;
  }
  return undefined;
}

function versionOf(file: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: VERSION_TIMEOUT_MS, maxBuffer: 64 * 1024, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }, (err, stdout, stderr) => {
      resolve(err ? undefined : `${stdout}\n${stderr}`);
    });
  });
}

export async function readKubernetes(path: string): Promise<KubeOnNode> {
  const answers: Partial<Record<(typeof KUBE_DISTRIBUTIONS)[number], string>> = {};
  for (const dist of KUBE_DISTRIBUTIONS) {
    const file = findBinary(dist, path);
    if (!file) continue;
    const text = await versionOf(file, VERSION_ARGS[dist]);
    if (text !== undefined) answers[dist] = text;
    // The most specific distribution found wins (detectKubernetes): no need to ask the rest.
    if (detectKubernetes(answers).distribution === dist) break;
  }
  return detectKubernetes(answers);
}

/** Everything but the Kubernetes probe (cheap: files and statfs), read now. */
export function readHostFacts(src: FactsSources): Omit<NodeFacts, 'kubernetes'> {
  const at = (p: string): string => join(src.root, p);
  const osText = tryRead(() => readText(at('etc/os-release'))) ?? tryRead(() => readText(at('usr/lib/os-release')));
  const mem = tryRead(() => parseMeminfo(readText(at('proc/meminfo'))));
  return {
    os: osText === undefined ? { id: os.platform(), name: os.type(), version: os.release(), prettyName: os.type() } : parseOsRelease(osText),
    kernel: os.release(),
    arch: process.arch === 'x64' ? 'amd64' : process.arch,
    cpus: os.availableParallelism(),
    memory: mem ?? { totalBytes: os.totalmem(), availableBytes: os.freemem() },
    disks: readDisks(tryRead(() => readText(at('proc/self/mounts'))) ?? ''),
    uptimeSeconds: tryRead(() => parseUptime(readText(at('proc/uptime')))) ?? Math.floor(os.uptime()),
  };
}

/** True when a process under ROOT/proc is a kube-apiserver or a k3s/rke2 server (isControlPlaneProcess). */
export function readControlPlane(root: string): boolean {
  const proc = join(root, 'proc');
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((d) => /^\d+$/.test(d));
  } catch {
    return false;
  }
  for (const pid of pids) {
    const comm = tryRead(() => readText(join(proc, pid, 'comm')).trim());
    const cmdline = tryRead(() => readText(join(proc, pid, 'cmdline')));
    if (comm === undefined || cmdline === undefined) continue; // gone meanwhile, or not ours to read
    if (isControlPlaneProcess(comm, cmdline.split('\0').filter(Boolean))) return true;
  }
  return false;
}

