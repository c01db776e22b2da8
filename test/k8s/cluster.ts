// `cluster up DIR` / `cluster down DIR`: a real Kubernetes control plane on loopback for tests —
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok with fake nodes (so
// Deployments become Available and pods Running). State (PIDs, ports) lives in DIR/cluster.json.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureBinaries } from './build.ts';
import { makePki, type Pki } from './certs.ts';
import { freePorts } from './ports.ts';
import { apiClient, kubeconfigYaml } from './api.ts';
import { startDetached, stopAll, isOurs, logTail, type ProcRecord } from './processes.ts';
import { K8S_VERSION } from './components.ts';

export interface ClusterState {
  dir: string;
  kubeconfig: string;
  server: string;
  binDir: string;
  version: string;
  /** `podBackend`: where `kubectl port-forward` to any fake pod lands (serve something there). */
  ports: { etcdClient: number; etcdPeer: number; apiserver: number; kwok: number; podBackend: number };
  /** What `kubectl logs [-f]` of any fake pod streams; append to it to produce log lines. */
  podLog: string;
  nodes: string[];
  procs: ProcRecord[];
  startedMs: number;
}

export interface UpOptions {
  /** Fake (kwok) nodes to create; the issue asks for at least 2. */
  nodes?: number;
  /** How long to wait for the API and the nodes. */
  timeoutMs?: number;
  /**
   * Start kube-apiserver through this (issue 15's upgrade test runs it under a restarting
   * supervisor from a node-local bin dir, as a systemd unit would): given the harness's binary and
   * flags, returns what to start. The process must keep DIR in its command line (the flags do).
   */
  apiserverCommand?: (bin: string, args: string[]) => { bin: string; args: string[] };
}

const STATE_FILE = 'cluster.json';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function readState(dir: string): ClusterState | undefined {
  const f = join(resolve(dir), STATE_FILE);
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, 'utf8')) as ClusterState;
}

async function waitFor(what: string, deadline: number, procs: ProcRecord[], probe: () => Promise<boolean>): Promise<void> {
  for (;;) {
    const dead = procs.find((p) => !isOurs(p));
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}; last log lines:\n${logTail(dead)}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** One line in the CRI log format kwok serves as container logs (`kubectl logs`). */
export function criLogLine(text: string, when: Date = new Date()): string {
  return `${when.toISOString()} stdout F ${text}\n`;
}

/** kwok configuration: exec runs locally in DIR, logs follow DIR/pod.log, port-forward reaches podBackend. */
function kwokConfig(dir: string, podBackend: number): string {
  return [
    'apiVersion: config.kwok.x-k8s.io/v1alpha1',
    'kind: KwokConfiguration',
    'options: {}',
    '---',
    'apiVersion: kwok.x-k8s.io/v1alpha1',
    'kind: ClusterExec',
    'metadata: { name: drover-test-exec }',
    'spec:',
    '  execs:',
    `  - local: { workDir: ${JSON.stringify(dir)} }`,
    '---',
    'apiVersion: kwok.x-k8s.io/v1alpha1',
    'kind: ClusterLogs',
    'metadata: { name: drover-test-logs }',
    'spec:',
    '  logs:',
    `  - logsFile: ${JSON.stringify(join(dir, 'pod.log'))}`,
    '    follow: true',
    '---',
    'apiVersion: kwok.x-k8s.io/v1alpha1',
    'kind: ClusterPortForward',
    'metadata: { name: drover-test-port-forward }',
    'spec:',
    '  forwards:',
    `  - target: { port: ${podBackend}, address: 127.0.0.1 }`,
    '',
  ].join('\n');
}

function fakeNode(name: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
      labels: { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/agent': '', type: 'kwok' },
    },
    spec: {},
  };
}

export async function up(dirArg: string, opts: UpOptions = {}): Promise<ClusterState> {
  const dir = resolve(dirArg);
  const started = Date.now();
  const existing = readState(dir);
  if (existing && existing.procs.some(isOurs)) throw new Error(`a cluster is already running in ${dir}; run 'cluster down ${dirArg}' first`);
  const bin = await ensureBinaries();
  mkdirSync(join(dir, 'logs'), { recursive: true });
  rmSync(join(dir, 'etcd'), { recursive: true, force: true });
  const pki: Pki = makePki(join(dir, 'pki'));
  const [etcdClient, etcdPeer, apiserver, kwok, podBackend] = (await freePorts(5)) as [number, number, number, number, number];
  const podLog = join(dir, 'pod.log');
  const server = `https://127.0.0.1:${apiserver}`;
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(server, pki), { mode: 0o600 });
  const b = (name: string): string => join(bin, name);
  const deadline = started + (opts.timeoutMs ?? 120_000);
  const procs: ProcRecord[] = [];
  const state: ClusterState = {
    dir,
    kubeconfig,
    server,
    binDir: bin,
    version: K8S_VERSION,
    ports: { etcdClient, etcdPeer, apiserver, kwok, podBackend },
    podLog,
    nodes: Array.from({ length: opts.nodes ?? 2 }, (_, i) => `kwok-node-${i}`),
    procs,
    startedMs: 0,
  };
  const save = (): void => writeFileSync(join(dir, STATE_FILE), JSON.stringify(state, null, 2));
  const logs = join(dir, 'logs');
  try {
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    // Tests do not need durability; skipping fsync makes etcd fast on shared disks.
    procs.push(startDetached('etcd', b('etcd'), [
      '--name=default', `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`, '--unsafe-no-fsync', '--log-level=warn',
    ], logs, dir));
    save();
    await waitFor('etcd', deadline, procs, async () => (await fetch(`${etcdUrl}/health`)).ok);

    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`, `--cert-dir=${pki.dir}`,
      `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`, `--client-ca-file=${pki.caCert}`,
      `--secure-port=${apiserver}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
      '--service-cluster-ip-range=10.0.0.0/24', '--allow-privileged=true', '--authorization-mode=RBAC',
      `--service-account-issuer=${server}/`, `--service-account-key-file=${pki.saPub}`, `--service-account-signing-key-file=${pki.saKey}`,
      '--endpoint-reconciler-type=none', `--kubelet-client-certificate=${pki.adminCert}`, `--kubelet-client-key=${pki.adminKey}`,
      '--profiling=false', '--v=0',
    ];
    const apiserverCmd = opts.apiserverCommand?.(b('kube-apiserver'), apiserverArgs) ?? { bin: b('kube-apiserver'), args: apiserverArgs };
    procs.push(startDetached('kube-apiserver', apiserverCmd.bin, apiserverCmd.args, logs, dir));
    save();
    const api = apiClient(server, pki);
    await waitFor('kube-apiserver /readyz', deadline, procs, async () => (await api('GET', '/readyz')).status === 200);

    procs.push(startDetached('kube-controller-manager', b('kube-controller-manager'), [
      `--kubeconfig=${kubeconfig}`, `--root-ca-file=${pki.caCert}`, `--service-account-private-key-file=${pki.saKey}`,
      `--cluster-signing-cert-file=${pki.caCert}`, `--cluster-signing-key-file=${pki.caKey}`,
      '--leader-elect=false', '--secure-port=0', '--controllers=*', '--v=0',
    ], logs, dir));
    procs.push(startDetached('kube-scheduler', b('kube-scheduler'), [`--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--secure-port=0', '--v=0'], logs, dir));
    writeFileSync(join(dir, 'kwok.yaml'), kwokConfig(dir, podBackend));
    writeFileSync(podLog, criLogLine('fake pod started'));
    // kwok plays the kubelet of every node: default "fast" stages (pods Running/Ready at once),
    // node leases as heartbeats so the node lifecycle controller keeps the nodes Ready, and a
    // kubelet API (TLS, on the node port) that serves exec/logs/port-forward for every fake pod.
    procs.push(startDetached('kwok', b('kwok'), [
      `--kubeconfig=${kubeconfig}`, '--manage-all-nodes=true', '--node-lease-duration-seconds=40',
      `--server-address=127.0.0.1:${kwok}`, `--node-port=${kwok}`, '--node-ip=127.0.0.1', '--cidr=10.244.0.0/16',
      `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`, `--config=${join(dir, 'kwok.yaml')}`,
    ], logs, dir));
    save();

    for (const name of state.nodes) {
      const res = await api('POST', '/api/v1/nodes', fakeNode(name));
      if (res.status !== 201 && res.status !== 409) throw new Error(`creating node ${name}: HTTP ${res.status} ${res.body}`);
    }
    await waitFor(`${state.nodes.length} Ready nodes`, deadline, procs, async () => {
      const res = await api('GET', '/api/v1/nodes');
      const items = (JSON.parse(res.body) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] }).items;
      return items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length >= state.nodes.length;
    });
    // Pods need the namespace's default ServiceAccount, which the controller-manager creates.
    await waitFor('default ServiceAccount', deadline, procs, async () => (await api('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200);
    state.startedMs = Date.now() - started;
    save();
    return state;
  } catch (err) {
    await stopAll(procs).catch(() => undefined);
    throw err;
  }
}

/** Stops everything `up` started in DIR; a no-op when nothing runs there. */
export async function down(dirArg: string): Promise<void> {
  const state = readState(dirArg);
  if (!state) return;
  await stopAll([...state.procs].reverse());
  rmSync(join(state.dir, STATE_FILE), { force: true });
}
