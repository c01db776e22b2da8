// Pure readers of what a node agent learns about its device (issue 15): /etc/os-release,
// /proc/meminfo, /proc/uptime, /proc/self/mounts, and the `--version` answers of the Kubernetes
// distributions' binaries. No I/O here: facts-read.ts hands the text in, the tests hand fixtures in.

export interface OsRelease {
  id: string;
  name: string;
  version: string;
  prettyName: string;
}

/** os-release(5): KEY=VALUE lines, values optionally quoted with shell escapes; comments ignored. */
export function parseOsRelease(text: string): OsRelease {
  const vars = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m?.[1]) continue;
    vars.set(m[1], unquote(m[2] ?? ''));
  }
  const name = vars.get('NAME') ?? 'Linux';
  const version = vars.get('VERSION_ID') ?? vars.get('VERSION') ?? '';
  return {
    id: vars.get('ID') ?? 'linux',
    name,
    version,
    prettyName: vars.get('PRETTY_NAME') ?? (version === '' ? name : `${name} ${version}`),
  };
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1);
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
  return v;
}

export interface MemInfo {
  totalBytes: number;
  /** MemAvailable; kernels before 3.14 lack it: MemFree + Buffers + Cached is the usual estimate. */
  availableBytes: number;
}

export function parseMeminfo(text: string): MemInfo {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)\s*kB$/.exec(line.trim());
    if (m?.[1] && m[2]) kb.set(m[1], Number(m[2]));
  }
  const total = kb.get('MemTotal');
  if (total === undefined) throw new Error('/proc/meminfo has no MemTotal line');
  const available = kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  return { totalBytes: total * 1024, availableBytes: available * 1024 };
}

/** /proc/uptime: seconds since boot (first field). */
export function parseUptime(text: string): number {
  const first = Number(text.trim().split(/\s+/)[0]);
  if (!Number.isFinite(first) || first < 0) throw new Error(`/proc/uptime is not a number: ${text.slice(0, 40)}`);
  return Math.floor(first);
}

/**
 * Uptime as reported: whole minutes during the first hour, whole hours after, so facts (re-sent
 * only when they change) are not re-sent every refresh just because time passed.
 */
export function quantiseUptime(seconds: number): number {
  return seconds < 3600 ? Math.floor(seconds / 60) * 60 : Math.floor(seconds / 3600) * 3600;
}

export interface Mount {
  device: string;
  mountPoint: string;
  fsType: string;
}

/** Filesystems that hold data on this device; pseudo, network and container mounts are left out. */
const DISK_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'vfat', 'exfat', 'f2fs', 'zfs', 'jfs', 'reiserfs', 'ntfs', 'ntfs3', 'fuseblk']);
/** Mount points under these are kubelet volumes and container root filesystems, not disks. */
const CONTAINER_PREFIXES = ['/var/lib/kubelet/pods/', '/run/k3s/', '/run/containerd/', '/var/lib/docker/', '/var/lib/containers/'];

/** The disks of /proc/self/mounts (fstab format, octal escapes), one entry per mount point. */
export function parseMounts(text: string): Mount[] {
  const out: Mount[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const [device, mountPoint, fsType] = line.trim().split(/\s+/).map(unescapeOctal);
    if (!device || !mountPoint || !fsType) continue;
    if (!DISK_FS.has(fsType) || CONTAINER_PREFIXES.some((p) => mountPoint.startsWith(p))) continue;
    if (seen.has(mountPoint)) continue;
    seen.add(mountPoint);
    out.push({ device, mountPoint, fsType });
  }
  return out;
}

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export const KUBE_DISTRIBUTIONS = ['k3s', 'rke2', 'kubeadm', 'kubelet'] as const;
export type KubeDistribution = (typeof KUBE_DISTRIBUTIONS)[number] | 'none';

export interface KubeOnNode {
  distribution: KubeDistribution;
  /** The version the binary reports (`v1.30.2+k3s1`), or '' when none is installed. */
  version: string;
}

/**
 * The Kubernetes on this node from its binaries' `--version` output, in order of preference: a
 * k3s or rke2 install also ships a kubelet (inside the one binary), and kubeadm nodes have kubelet
 * too, so the most specific distribution that answered wins. Absent binaries are absent keys.
 */
export function detectKubernetes(versions: Partial<Record<(typeof KUBE_DISTRIBUTIONS)[number], string>>): KubeOnNode {
  for (const dist of KUBE_DISTRIBUTIONS) {
    const text = versions[dist];
    if (text === undefined) continue;
    const v = versionIn(text);
    if (v) return { distribution: dist, version: v };
  }
  return { distribution: 'none', version: '' };
}

/** The first `vMAJOR.MINOR.PATCH[+meta|-pre]` in a version answer. */
export function versionIn(text: string): string | undefined {
  return /\bv\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?/.exec(text)?.[0];
}

/**
 * Whether a process makes this node a control-plane node (the fact `node.controlPlane`): a
 * kube-apiserver (static binary or a static pod's process), or a k3s/rke2 server (which run the
 * apiserver inside their own process: argv `k3s server`, comm `k3s-server`).
 */
export function isControlPlaneProcess(comm: string, argv: readonly string[]): boolean {
  const exe = (argv[0] ?? '').split('/').pop() ?? '';
  if (comm === 'kube-apiserver' || exe === 'kube-apiserver') return true;
  if (comm === 'k3s-server' || comm === 'rke2-server') return true;
  // k3s rewrites its argv to one string, "k3s server …".
  const words = argv.length === 1 ? (argv[0] ?? '').split(' ') : [...argv];
  const bin = (words[0] ?? '').split('/').pop() ?? '';
  return (bin === 'k3s' || bin === 'rke2') && words[1] === 'server';
}
