// Helpers for the agent self-upgrade tests (issue 16): signed test releases made of small
// executables, and a supervisor that stands in for systemd's drover-agent.service — the pre-start
// step run by `<exe>.previous` when it exists (ExecStartPre), `<exe> agent run`, and a restart
// whenever the process exits (Restart=always).
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
export function makeRelease(dir: string, version: string, exe: string, key: TestKey, opts: { tamperAfterSigning?: boolean; signWith?: KeyObject } = {}): string {
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

/** systemd's place: runs the agent from `exe`, restarting it when it exits, until stopped. */
export class Supervisor {
  child: ChildProcess | undefined;
  output = '';
  starts = 0;
  #stopped = false;
  readonly #loop: Promise<void>;
  readonly exe: string;
  readonly dataDir: string;
  readonly env: Record<string, string>;
  readonly args: string[];
  /** A command every executable runs under (arm64: qemu-aarch64-static -L /). */
  readonly wrap: string[];

  constructor(exe: string, dataDir: string, env: Record<string, string>, args: string[] = ['--roles', 'cluster'], wrap: string[] = []) {
    this.wrap = wrap;
    this.exe = exe;
    this.dataDir = dataDir;
    this.env = env;
    this.args = args;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const previous = `${this.exe}.previous`;
      if (fs.existsSync(previous)) {
        const [cmd, ...pre0] = [...this.wrap, previous];
        const pre = spawnSync(cmd ?? previous, [...pre0, 'agent', 'upgrade', '--recover', '--data-dir', this.dataDir], { env: childEnv(this.env), encoding: 'utf8', timeout: 60_000 });
        this.output += `[pre-start exit ${pre.status}] ${pre.stderr}`;
      }
      if (this.#stopped) break;
      this.starts += 1;
      const [cmd, ...run0] = [...this.wrap, this.exe];
      const child = spawn(cmd ?? this.exe, [...run0, 'agent', 'run', '--data-dir', this.dataDir, '--backoff-cap', '1s', ...this.args], { env: childEnv(this.env), stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      child.stdout?.on('data', (b: Buffer) => (this.output += b.toString('utf8')));
      child.stderr?.on('data', (b: Buffer) => (this.output += b.toString('utf8')));
      await new Promise<void>((resolve) => child.once('exit', (code, sig) => {
        this.output += `[exit ${code ?? sig}]\n`;
        resolve();
      }));
      // RestartSec, shortened.
      await sleep(200);
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
