// Debian's HAProxy in front of server replicas, for the HA tests and bench (issue 17): TCP mode
// (TLS passes through to the replicas; agents and kubectl verify the server CA as usual), on
// 127.0.0.1 in a temp dir, `leastconn` so long-lived tunnels spread evenly over the replicas, and
// fast health checks so a killed replica leaves the rotation within about a second.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface Haproxy {
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const HAPROXY = process.env.DROVER_HAPROXY ?? '/usr/sbin/haproxy';

/** A free loopback port (closed again at once; the caller binds it soon after). */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const a = s.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  await new Promise((r) => s.close(r));
  return port;
}

export function haproxyConfig(port: number, backends: ReadonlyArray<{ name: string; port: number }>, maxconn = 4000): string {
  return [
    'global',
    // HAProxy needs about two descriptors per connection and refuses to start above the fd limit.
    `  maxconn ${maxconn}`,
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    // A connect refused by a dead replica (before the health check marks it down) goes to another.
    '  retries 2',
    '  option redispatch 1',
    // Tunnels and watches are long-lived; the protocol's own pings keep them busy.
    '  timeout client 1h',
    '  timeout server 1h',
    'frontend drover',
    `  bind 127.0.0.1:${port}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance leastconn',
    '  option tcp-check',
    ...backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port} check inter 300ms fall 2 rise 1 on-marked-down shutdown-sessions`),
    '',
  ].join('\n');
}

export async function startHaproxy(dir: string, backends: ReadonlyArray<{ name: string; port: number }>, maxconn?: number): Promise<Haproxy> {
  const port = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(port, backends, maxconn));
  const child: ChildProcess = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  // Listening once a TCP connect succeeds.
  const { connect } = await import('node:net');
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${output}`);
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => {
        c.destroy();
        r(true);
      });
      c.on('error', () => r(false));
    });
    if (ok) break;
    if (i > 100) throw new Error(`haproxy did not listen: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
