// Starts the real server from a built executable on the host's loopback (port 0) for the
// packaging tests, and mints join tokens through the executable's own admin commands.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TestServer {
  url: string;
  dataDir: string;
  /** `drover token create --data-dir …` run on the host, as an admin would. */
  token(args?: readonly string[]): string;
  stop(): Promise<void>;
}

/** Polls server.json (written once listening); a bounded number of tries, no wall-clock assertion. */
const START_POLLS = 300;
const POLL_MS = 100;

/** `listen` defaults to a free loopback port; give the old address to restart a server in place. */
export async function startServer(exe: string, dataDir: string, listen = '127.0.0.1:0'): Promise<TestServer> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const cacheDir = path.join(dataDir, '..', 'server-cache');
  fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root', DROVER_CACHE_DIR: cacheDir };
  const child: ChildProcess = spawn(exe, ['server', '--data-dir', dataDir, '--listen', listen, '--log-level', 'warn'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const record = path.join(dataDir, 'server.json');
  let url: string | undefined;
  for (let i = 0; i < START_POLLS && !url; i++) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${stderr}`);
    try {
      const rec = JSON.parse(fs.readFileSync(record, 'utf8')) as { url?: string; pid?: number };
      if (rec.pid === child.pid && rec.url) url = rec.url;
    } catch {
      // not written yet
    }
    if (!url) await sleep(POLL_MS);
  }
  if (!url) {
    child.kill('SIGKILL');
    throw new Error(`server did not start: ${stderr}`);
  }
  return {
    url,
    dataDir,
    token(args = []) {
      const res = spawnSync(exe, ['token', 'create', '--data-dir', dataDir, ...args], { encoding: 'utf8', env });
      if (res.status !== 0) throw new Error(`token create failed: ${res.stderr}`);
      return res.stdout.trim();
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
