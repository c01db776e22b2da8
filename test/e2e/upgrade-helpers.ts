// Helpers for the agent self-upgrade tests (issue 16): signed test releases made of small
// executables, and a supervisor that stands in for systemd's drover-agent.service (no systemd runs
// here, outside the nspawn test) — the pre-start step run by `<exe>.previous` when it exists
// (ExecStartPre), `<exe> agent run`, a restart whenever the process exits (Restart=always), and
// with `notify` the Type=notify start (decision 1131): READY=1 must come within TimeoutStartSec
// (EXTEND_TIMEOUT_USEC moves the limit out), else the start is killed (SIGTERM, SIGKILL after
// TimeoutStopSec) and counted as failed, then restarted like any other exit.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childEnv, DROVER } from './agent-helpers.ts';
import { loadReleaseKey } from '../../packaging/release-signing.ts';
import { droverCacheDir } from '../../packaging/node-runtime.ts';

export interface TestKey {
  privateKey: KeyObject;
  publicFile: string;
}

export function testKey(dir: string): TestKey {
  // A packaged executable trusts only the key built into it (protocol/release-key.ts): under
  // DROVER_TEST_EXE (issue 25) the releases are signed with the key `npm run package` used.
  const { privateKey, publicKey } = process.env['DROVER_TEST_EXE'] ? packagingKey() : generateKeyPairSync('ed25519');
  const publicFile = path.join(dir, 'release-public.pem');
  fs.writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateKey, publicFile };
}

function packagingKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  const { privateKey } = loadReleaseKey(process.env, droverCacheDir());
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/**
 * An executable for the tests: a shell script running this checkout's drover (so it really
 * registers, connects and upgrades), with `body` before the exec to make it different (or broken).
 */
export function scriptExe(label: string, body = ''): string {
  return `#!/bin/sh\n# drover test build: ${label}\n${body}\nexec ${DROVER} "$@"\n`;
}

/** A release folder like dist/: VERSION, drover-linux-amd64, sha256sums and its signature. */
export function makeRelease(dir: string, version: string, exe: string | Buffer, key: Pick<TestKey, 'privateKey'>, opts: { tamperAfterSigning?: boolean; signWith?: KeyObject } = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  const v = `${version}\n`;
  fs.writeFileSync(path.join(dir, 'VERSION'), v);
  fs.writeFileSync(path.join(dir, 'drover-linux-amd64'), exe, { mode: 0o755 });
  const sums = `${sha(v)}  VERSION\n${sha(exe)}  drover-linux-amd64\n`;
  fs.writeFileSync(path.join(dir, 'sha256sums'), sums);
  fs.writeFileSync(path.join(dir, 'sha256sums.sig'), `${sign(null, Buffer.from(sums), opts.signWith ?? key.privateKey).toString('base64')}\n`);
  if (opts.tamperAfterSigning) fs.appendFileSync(path.join(dir, 'drover-linux-amd64'), '# changed after signing\n');
  return dir;
}

export interface SupervisorOptions {
  /** Type=notify: TimeoutStartSec / TimeoutStopSec in ms (shortened). */
  notify?: { timeoutStartMs: number; timeoutStopMs?: number };
  /** A command only the first start runs under (the kill -9 test: strace stopping the swap). */
  wrapFirst?: string[];
}

/**
 * Stands in for `systemd-notify` on PATH: appends its assignments to the file named by
 * NOTIFY_SOCKET, which the supervisor reads (Node cannot receive unix datagrams, and no service
 * manager runs here). The agent runs it exactly as it runs the real one under systemd.
 */
function fakeSystemdNotify(dir: string): string {
  const bin = path.join(dir, 'notify-bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'systemd-notify'), '#!/bin/sh\nfor a in "$@"; do printf \'%s\\n\' "$a"; done >> "$NOTIFY_SOCKET"\n', { mode: 0o755 });
  return bin;
}

/** systemd's place: runs the agent from `exe`, restarting it when it exits, until stopped. */
export class Supervisor {
  child: ChildProcess | undefined;
  output = '';
  starts = 0;
  /** Starts ended by the start timeout (Type=notify without READY=1 in time). */
  timeouts = 0;
  #stopped = false;
  readonly #loop: Promise<void>;
  readonly exe: string;
  readonly dataDir: string;
  readonly env: Record<string, string>;
  readonly args: string[];
  /** A command every executable runs under (arm64: qemu-aarch64-static -L /). */
  readonly wrap: string[];
  readonly opts: SupervisorOptions;

  constructor(exe: string, dataDir: string, env: Record<string, string>, args: string[] = ['--roles', 'cluster'], wrap: string[] = [], opts: SupervisorOptions = {}) {
    this.wrap = wrap;
    this.exe = exe;
    this.dataDir = dataDir;
    this.env = env;
    this.args = args;
    this.opts = opts;
    this.#loop = this.#run();
  }

  /** The agent's own pid (below a wrapper such as strace), or the child's. */
  agentPid(): number | undefined {
    const pid = this.child?.pid;
    if (!pid) return undefined;
    if (this.starts > 1 || !this.opts.wrapFirst) return pid;
    try {
      const kids = fs.readdirSync(`/proc/${pid}/task`).flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/)).filter(Boolean);
      return Number(kids[0]) || undefined;
    } catch {
      return undefined;
    }
  }

  async #run(): Promise<void> {
    const notifyBin = this.opts.notify ? fakeSystemdNotify(path.dirname(this.dataDir)) : undefined;
    while (!this.#stopped) {
      const previous = `${this.exe}.previous`;
      if (fs.existsSync(previous)) {
        const [cmd, ...pre0] = [...this.wrap, previous];
        const pre = spawnSync(cmd ?? previous, [...pre0, 'agent', 'upgrade', '--recover', '--data-dir', this.dataDir, ...this.args.filter((a, i, all) => a === '--roles' || all[i - 1] === '--roles')], { env: childEnv(this.env), encoding: 'utf8', timeout: 60_000 });
        this.output += `[pre-start exit ${pre.status}] ${pre.stderr}`;
      }
      if (this.#stopped) break;
      this.starts += 1;
      const notifyFile = notifyBin ? path.join(path.dirname(notifyBin), `notify-${this.starts}`) : undefined;
      const env = childEnv({ ...this.env, ...(notifyBin && notifyFile ? { NOTIFY_SOCKET: notifyFile, PATH: `${notifyBin}:${process.env['PATH'] ?? ''}` } : {}) });
      const [cmd, ...run0] = [...this.wrap, ...(this.starts === 1 ? (this.opts.wrapFirst ?? []) : []), this.exe];
      const child = spawn(cmd ?? this.exe, [...run0, 'agent', 'run', '--data-dir', this.dataDir, '--backoff-cap', '1s', ...this.args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      child.stdout?.on('data', (b: Buffer) => (this.output += b.toString('utf8')));
      child.stderr?.on('data', (b: Buffer) => (this.output += b.toString('utf8')));
      const exited = new Promise<void>((resolve) => child.once('exit', (code, sig) => {
        this.output += `[exit ${code ?? sig}]\n`;
        resolve();
      }));
      if (this.opts.notify && notifyFile) await this.#startTimeout(child, exited, notifyFile, this.opts.notify);
      await exited;
      // RestartSec, shortened.
      await sleep(200);
    }
  }

  /** Type=notify: waits for READY=1; past TimeoutStartSec (as extended) the start is killed. */
  async #startTimeout(child: ChildProcess, exited: Promise<void>, file: string, n: { timeoutStartMs: number; timeoutStopMs?: number }): Promise<void> {
    let done = false;
    void exited.then(() => (done = true));
    let limit = Date.now() + n.timeoutStartMs;
    while (!done && !this.#stopped) {
      const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : [];
      if (lines.includes('READY=1')) return;
      for (const l of lines) {
        const m = /^EXTEND_TIMEOUT_USEC=(\d+)$/.exec(l);
        // systemd: the start may now take until at least N µs from when the message came.
        if (m) limit = Math.max(limit, fs.statSync(file).mtimeMs + Number(m[1]) / 1000);
      }
      if (Date.now() > limit) {
        this.timeouts += 1;
        this.output += '[start timeout: no READY=1; stopping]\n';
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), n.timeoutStopMs ?? 2000);
        await exited;
        clearTimeout(killer);
        return;
      }
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null) {
      c.kill('SIGCONT');
      c.kill('SIGKILL');
    }
    await this.#loop;
  }
}
