// Helpers for the agent end-to-end tests (test/e2e/agent-*.test.ts): real `./bin/drover`
// processes on 127.0.0.1 — server, admin commands, agents — with output captured and polled.
// Waits poll real state with generous deadlines; no test asserts on elapsed time.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/**
 * What the e2e tests run as `drover`: the checkout (`bin/drover`), or a packaged executable when
 * DROVER_TEST_EXE names one (issue 25: the suite against `npm run package` output, e.g.
 * `DROVER_TEST_EXE=$PWD/dist/drover-linux-amd64 npx tap run test/e2e/fleet-rollout.test.ts`).
 */
export const DROVER = droverUnderTest(process.env['DROVER_TEST_EXE']);

function droverUnderTest(exe: string | undefined): string {
  if (!exe) return path.join(ROOT, 'bin', 'drover');
  const abs = path.resolve(exe);
  fs.accessSync(abs, fs.constants.X_OK);
  return abs;
}

/** The environment for child processes: no proxy unless a test sets one, quiet-ish logs. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(https?|no|all)_proxy$/i.test(k) || k.startsWith('DROVER_') || k.startsWith('TAP')) continue;
    env[k] = v;
  }
  return { ...env, DROVER_LOG_LEVEL: 'debug', ...extra };
}

export interface CmdResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** `bin`: another build's `drover` (the version-skew tests run the previous release's). */
export async function drover(args: string[], env: Record<string, string> = {}, bin = DROVER): Promise<CmdResult> {
  const r = await execa(bin, args, { reject: false, env: childEnv(env), extendEnv: false, timeout: 60_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export class Proc {
  readonly child: ChildProcess;
  output = '';
  private readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string> = {}, bin = DROVER) {
    this.child = spawn(bin, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (b: Buffer) => (this.output += b.toString('utf8')));
    this.child.stderr?.on('data', (b: Buffer) => (this.output += b.toString('utf8')));
    this.exited = once(this.child, 'exit').then(([code]) => code as number | null);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Parsed JSON log lines (pino) written so far. */
  logs(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const line of this.output.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line still being written
      }
    }
    return out;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** SIGTERM (or `sig`), then SIGKILL if it lingers; resolves with the exit code. */
  async stop(sig: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) {
      this.child.kill('SIGCONT');
      this.child.kill(sig);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }

  wait(): Promise<number | null> {
    return this.exited;
  }
}

/** Polls `fn` until it returns a truthy value; fails with `what` and the last value after the deadline. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(150);
  }
}

export interface ServerProc {
  proc: Proc;
  url: string;
  port: number;
  dataDir: string;
}

/** `drover server` on 127.0.0.1 (port 0 picks a free one; pass the old port to restart in place). */
export async function startServer(dataDir: string, port = 0, env: Record<string, string> = {}, host = '127.0.0.1', bin = DROVER): Promise<ServerProc> {
  // The 'listening' line is logged at info: never run the server quieter than that here.
  const proc = new Proc(['server', '--data-dir', dataDir, '--listen', `${host}:${port}`], { ...env, DROVER_LOG_LEVEL: env.DROVER_LOG_LEVEL ?? 'debug' }, bin);
  let line: Record<string, unknown>;
  try {
    line = await waitFor('the server to listen', () => {
      if (!proc.running) throw new Error(`server exited: ${proc.output.slice(-2000)}`);
      return proc.logs().find((l) => l.msg === 'drover server listening');
    });
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  const url = String(line.url);
  return { proc, url, port: Number(new URL(url).port), dataDir };
}

export async function createToken(serverDir: string, args: string[] = []): Promise<string> {
  const r = await drover(['token', 'create', '--data-dir', serverDir, ...args]);
  if (r.exitCode !== 0) throw new Error(`token create failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout.trim();
}

export interface RoleStatusJson {
  name: string;
  state: string;
  since: string | null;
  lastError: string | null;
  nextRetryAt: string | null;
  /** Added field: the process holding this role's tunnel. */
  pid: number | null;
}

export interface AgentStatusJson {
  server: string;
  clusterId: string;
  nodeId: string;
  agentId: string;
  version: string;
  roles: RoleStatusJson[];
  bundles: unknown[];
  outbox: number;
}

export async function agentStatus(dataDir: string): Promise<AgentStatusJson> {
  const r = await drover(['agent', 'status', '--json', '--data-dir', dataDir]);
  if (r.exitCode !== 0) throw new Error(`agent status failed (${r.exitCode}): ${r.stderr}`);
  return JSON.parse(r.stdout) as AgentStatusJson;
}

export interface ClusterJson {
  id: string;
  name: string;
  labels: Record<string, string>;
  state: 'Connected' | 'Stale' | 'Offline';
  lastSeen: string | null;
  kubernetesVersion: string | null;
  [k: string]: unknown;
}

export async function clusterList(serverDir: string): Promise<ClusterJson[]> {
  const r = await drover(['cluster', 'list', '--json', '--data-dir', serverDir]);
  if (r.exitCode !== 0) throw new Error(`cluster list failed (${r.exitCode}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ClusterJson[];
}

export async function clusterGet(serverDir: string, id: string): Promise<Record<string, unknown>> {
  const r = await drover(['cluster', 'get', id, '--json', '--data-dir', serverDir]);
  if (r.exitCode !== 0) throw new Error(`cluster get failed (${r.exitCode}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** `drover agent run` with a short backoff cap so tests see reconnects quickly. */
export function startAgent(dataDir: string, args: string[] = [], env: Record<string, string> = {}): Proc {
  return new Proc(['agent', 'run', '--data-dir', dataDir, '--backoff-cap', '2s', ...args], env);
}

export function allRoles(s: AgentStatusJson, state: string): boolean {
  return s.roles.length > 0 && s.roles.every((r) => r.state === state);
}

/** GET a path on the server, trusting its CA from the data dir (metrics, health). */
export async function serverGet(server: Pick<ServerProc, 'dataDir' | 'url'>, pathname: string): Promise<{ status: number; body: string }> {
  const { default: https } = await import('node:https');
  const ca = (await import('node:fs')).readFileSync(path.join(server.dataDir, 'tls', 'ca.crt'), 'utf8');
  return new Promise((resolve, reject) => {
    https.get(new URL(pathname, server.url), { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** Sum of a Prometheus counter over all label sets (0 when absent). */
export function counterTotal(metricsText: string, name: string): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/**
 * A fresh directory for one test, removed after the test's other teardowns. tap runs teardowns last
 * registered first, so calling this before starting processes makes the removal run after they are
 * stopped. `t.testdir()` is removed before the teardowns instead, racing with a server still writing
 * into it (ENOTEMPTY), and a failed removal skipped the teardowns that stop the processes: the file
 * then hung until tap's timeout.
 */
export function testDir(t: { teardown(fn: () => void | Promise<void>): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-e2e-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}
