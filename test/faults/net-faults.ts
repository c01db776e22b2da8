// Real network faults for the fault suite, without netem (this kernel has none; FACTS.md): inside
// a network namespace the suite created, agents reach the server at 127.0.0.2 while the test talks
// to it at 127.0.0.1, and only the agents' path is faulted. A partition is an iptables DROP on that
// path; loss and delay are an NFQUEUE verdict program (nfq-fault.c, built here once and cached)
// that drops a share of packets and releases the rest after a delay, both directions.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** The address agents use for the server; everything else uses 127.0.0.1. */
export const AGENT_PATH_ADDR = '127.0.0.2';
const SOURCE = path.join(import.meta.dirname, 'nfq-fault.c');

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
}

/** Why the suite cannot run here, or undefined when it can. */
export function missingSupport(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, iptables)';
  for (const tool of ['unshare', 'ip', 'iptables', 'cc']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool} (.ci/apt-packages.txt)`;
  }
  if (!existsSync('/usr/include/libnetfilter_queue/libnetfilter_queue.h')) return 'needs libnetfilter-queue-dev (.ci/apt-packages.txt)';
  return undefined;
}

/** Builds nfq-fault once per source version into ~/.cache/drover/faults/. */
export function nfqFaultBinary(): string {
  const src = readFileSync(SOURCE);
  const dir = path.join(homedir(), '.cache', 'drover', 'faults');
  const bin = path.join(dir, `nfq-fault-${createHash('sha256').update(src).digest('hex').slice(0, 12)}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    run('cc', ['-O2', '-Wall', '-o', bin, SOURCE, '-lnetfilter_queue']);
  }
  return bin;
}

export class NetFaults {
  readonly #port: number;
  readonly #queue: number;
  #partitioned = false;
  #nfq: ChildProcess | undefined;
  log = '';

  constructor(port: number, queue = 14) {
    this.#port = port;
    this.#queue = queue;
  }

  /** Both directions of the agents' path to the server: [to the server, from the server]. */
  #matches(): string[][] {
    return [
      ['-p', 'tcp', '-d', AGENT_PATH_ADDR, '--dport', String(this.#port)],
      ['-p', 'tcp', '-s', AGENT_PATH_ADDR, '--sport', String(this.#port)],
    ];
  }

  partition(): void {
    if (this.#partitioned) return;
    for (const m of this.#matches()) run('iptables', ['-I', 'OUTPUT', '1', ...m, '-j', 'DROP']);
    this.#partitioned = true;
  }

  heal(): void {
    if (!this.#partitioned) return;
    for (const m of this.#matches()) run('iptables', ['-D', 'OUTPUT', ...m, '-j', 'DROP']);
    this.#partitioned = false;
  }

  /** Starts dropping `loss` (0..1) of the packets and delaying the rest by `delayMs`, both ways. */
  async lossAndDelay(loss: number, delayMs: number, seed = 14): Promise<void> {
    if (this.#nfq) throw new Error('loss and delay already on');
    const nfq = spawn(nfqFaultBinary(), [String(this.#queue), String(loss), String(delayMs), String(seed)], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#nfq = nfq;
    await new Promise<void>((resolve, reject) => {
      nfq.stderr?.on('data', (b: Buffer) => {
        this.log += b.toString();
        if (this.log.includes('nfq-fault: queue')) resolve();
      });
      nfq.once('exit', (code) => reject(new Error(`nfq-fault exited (${code}): ${this.log}`)));
    });
    for (const m of this.#matches()) run('iptables', ['-A', 'OUTPUT', ...m, '-j', 'NFQUEUE', '--queue-num', String(this.#queue), '--queue-bypass']);
  }

  async clearLossAndDelay(): Promise<void> {
    const nfq = this.#nfq;
    if (!nfq) return;
    for (const m of this.#matches()) run('iptables', ['-D', 'OUTPUT', ...m, '-j', 'NFQUEUE', '--queue-num', String(this.#queue), '--queue-bypass']);
    const exited = new Promise((r) => nfq.once('exit', r));
    nfq.kill('SIGTERM');
    await exited;
    this.#nfq = undefined;
  }

  async clear(): Promise<void> {
    this.heal();
    await this.clearLossAndDelay();
  }
}
