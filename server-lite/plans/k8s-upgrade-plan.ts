// `drover upgrade kubernetes` as a node plan (pure; issue 15, docs/kubernetes-upgrade.md). The
// request — a version, the distribution, the release's binaries with their SHA-256 — becomes one
// plan every targeted node runs: fetch the binaries it has from the server and verify them, check
// them and the cluster before anything stops, snapshot the datastore, cordon (drain workers when
// asked), stop, swap keeping the previous binaries, start, wait for the kube-apiserver's /readyz,
// its /version and the node's Ready condition, uncordon; on any failure the plan engine runs the
// rollback, which puts the previous binaries back and restarts. The order over nodes is the plan
// rollout's: control-plane nodes (fact `node.controlPlane`) first and one at a time, then workers.
import { K8S_UPGRADE_SCRIPT } from './k8s-upgrade-script.ts';

export const K8S_DISTRIBUTIONS = ['binaries', 'k3s', 'rke2'] as const;
export type K8sDistribution = (typeof K8S_DISTRIBUTIONS)[number];

/** The binaries a release of each distribution may carry (what the upgrade may replace). */
export const DISTRIBUTION_BINARIES: Readonly<Record<K8sDistribution, readonly string[]>> = Object.freeze({
  binaries: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'],
  k3s: ['k3s'],
  rke2: ['rke2'],
});

/** Device defaults (ARCHITECTURE.md §5 paths): the node-local layout file and the staging dir. */
export const K8S_UPGRADE_DEFAULTS = Object.freeze({
  layout: '/etc/drover/kubernetes.env',
  workDir: '/var/lib/drover/kubernetes-upgrade',
  healthTimeoutS: 300,
  /** A download of a ~100 MB binary over a slow site link. */
  fetchTimeout: '30m',
});

export interface K8sArtifact {
  name: string;
  sha256: string;
}

export interface K8sUpgradeRequest {
  version: string;
  distribution: K8sDistribution;
  artifacts: readonly K8sArtifact[];
  layout?: string | undefined;
  workDir?: string | undefined;
  drain?: boolean | undefined;
  healthTimeoutS?: number | undefined;
}

export class K8sUpgradeInvalid extends Error {
  readonly code = 'PLAN_OPTIONS_INVALID';
}

const VERSION = /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]{1,40})?$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** Absolute, and no quote: the probe passes these values through a quoted shell assignment. */
const ABSOLUTE = /^\/[^\0'"]*$/;

/** The plan's name when the user gives none: `kubernetes-v1.34.4`. */
export function defaultUpgradeName(version: string): string {
  return `kubernetes-${version}`.replace(/[^-A-Za-z0-9_.]/g, '-').slice(0, 64);
}

/** The server-side name of an imported binary (docs/api.md, artifacts). */
export function artifactPath(version: string, name: string): string {
  return `kubernetes/${version}/${name}`;
}

export function checkUpgradeRequest(r: K8sUpgradeRequest): void {
  const bad = (m: string): never => {
    throw new K8sUpgradeInvalid(m);
  };
  if (!VERSION.test(r.version)) bad(`--version "${r.version}": expected a Kubernetes version like v1.34.4`);
  if (!K8S_DISTRIBUTIONS.includes(r.distribution)) bad(`--distribution "${String(r.distribution)}": one of ${K8S_DISTRIBUTIONS.join(', ')}`);
  if (r.artifacts.length === 0) bad(`no binaries to upgrade: the release directory has none of ${DISTRIBUTION_BINARIES[r.distribution].join(', ')}`);
  const seen = new Set<string>();
  for (const a of r.artifacts) {
    if (!DISTRIBUTION_BINARIES[r.distribution].includes(a.name)) bad(`"${a.name}" is not a binary of the ${r.distribution} distribution (${DISTRIBUTION_BINARIES[r.distribution].join(', ')})`);
    if (!SHA256.test(a.sha256)) bad(`${a.name}: "${a.sha256}" is not a SHA-256 (64 hex digits)`);
    if (seen.has(a.name)) bad(`${a.name} is listed twice`);
    seen.add(a.name);
  }
  for (const [flag, p] of [['--layout', r.layout], ['--work-dir', r.workDir]] as const) {
    if (p !== undefined && (!ABSOLUTE.test(p) || p.split('/').slice(1).some((s) => s === '..' || s === '.' || s === ''))) bad(`${flag} "${p}": an absolute path without "..", "." or empty segments`);
  }
  const h = r.healthTimeoutS;
  if (h !== undefined && (!Number.isInteger(h) || h < 10 || h > 3600)) bad(`--health-timeout ${String(h)}: between 10 and 3600 seconds`);
}

interface Step {
  step: string;
  timeout: string;
  /** Safe to run again after the agent was killed mid-step (see the script: every step is). */
  idempotent: boolean;
}

/** The apply steps in order. Everything before `stop` leaves the node as it was. */
export const UPGRADE_STEPS: readonly Step[] = [
  { step: 'fetch', timeout: K8S_UPGRADE_DEFAULTS.fetchTimeout, idempotent: true },
  { step: 'preflight', timeout: '2m', idempotent: true },
  { step: 'snapshot', timeout: '15m', idempotent: true },
  { step: 'cordon', timeout: '', idempotent: true },
  { step: 'stop', timeout: '5m', idempotent: true },
  { step: 'swap', timeout: '5m', idempotent: true },
  { step: 'start', timeout: '5m', idempotent: true },
  { step: 'health', timeout: '', idempotent: true },
  { step: 'uncordon', timeout: '2m', idempotent: true },
];

/** The plan document (docs/plans.md schema) for the request; `checkPlan` accepts it as it is. */
export function kubernetesUpgradePlan(r: K8sUpgradeRequest): Record<string, unknown> {
  checkUpgradeRequest(r);
  const health = r.healthTimeoutS ?? K8S_UPGRADE_DEFAULTS.healthTimeoutS;
  const env = {
    DROVER_K8S_VERSION: r.version,
    DROVER_K8S_DISTRIBUTION: r.distribution,
    // Sorted: the same release gives the same plan checksum whatever order the files were listed in.
    DROVER_K8S_ARTIFACTS: [...r.artifacts].sort((a, b) => a.name.localeCompare(b.name)).map((a) => `${a.name}=${a.sha256}`).join(' '),
    DROVER_K8S_LAYOUT: r.layout ?? K8S_UPGRADE_DEFAULTS.layout,
    DROVER_K8S_WORK_DIR: r.workDir ?? K8S_UPGRADE_DEFAULTS.workDir,
    DROVER_K8S_DRAIN: r.drain ? 'true' : 'false',
    DROVER_K8S_HEALTH_TIMEOUT: String(health),
  };
  // cordon may drain (bounded by the health timeout); health waits up to it: both get a margin.
  const margin = `${health + 60}s`;
  const run = (s: Step) => ({
    name: s.step,
    command: '/bin/sh',
    args: ['-c', K8S_UPGRADE_SCRIPT, 'drover-k8s-upgrade', s.step],
    env,
    timeout: s.timeout || margin,
    idempotent: s.idempotent,
  });
  return {
    apiVersion: 'drover.dev/v1',
    kind: 'Plan',
    instructions: UPGRADE_STEPS.map(run),
    // A last look once everything ran (the same checks as `health`, once more after uncordon).
    probes: [{ name: 'kubernetes-healthy', exec: { command: '/bin/sh', args: ['-c', `export ${Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(' ')}; exec /bin/sh -c "$0" drover-k8s-upgrade check`, K8S_UPGRADE_SCRIPT] }, period: '2s', timeout: '30s', failureThreshold: 5 }],
    onFailure: 'rollback',
    rollback: [{ ...run({ step: 'rollback', timeout: '', idempotent: true }), timeout: `${health + 300 + 10 * 60}s` }], // the wait for the old version (health + 300 s), stop and start
  };
}
