// bench/footprint.ts --arm64: the arm64 executable once, all roles in one process, inside a
// debootstrap arm64 root under qemu-aarch64-static (packaging/testing/rootfs.ts), connected to the
// same server. The RSS is the qemu process's, emulator and its translated code included: an
// upper bound of what the same agent holds on a real arm64 device, not a like-for-like figure.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runAgent, waitConnected } from '../../packaging/testing/agent-process.ts';
import { inRoot, scratchRoot } from '../../packaging/testing/rootfs.ts';
import type { TestServer } from '../../packaging/testing/server.ts';

export async function arm64Once(exe: string, srv: TestServer, idleMs: number): Promise<{ rssMiB: number }> {
  const root = scratchRoot('arm64');
  try {
    const dest = path.join(root.dir, 'usr', 'local', 'bin', 'drover');
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(exe, dest);
    fs.chmodSync(dest, 0o755);
    const reg = inRoot(root.dir, 'arm64', ['/usr/local/bin/drover', 'agent', 'register', '--server', srv.url, '--token', srv.token()]);
    if (reg.status !== 0) throw new Error(`arm64 register: ${reg.stderr}`);
    const agent = runAgent(root.dir, 'arm64', 'cluster,node,fleet');
    try {
      for (const role of ['cluster', 'node', 'fleet']) {
        const st = await waitConnected(root.dir, 'arm64', role);
        if (st?.roles.find((r) => r.name === role)?.state !== 'connected') throw new Error(`arm64 ${role} did not connect: ${JSON.stringify(st)}`);
      }
      await sleep(idleMs);
      return { rssMiB: Math.round(((agent.rssKiB() ?? NaN) / 1024) * 10) / 10 };
    } finally {
      await agent.stop();
    }
  } finally {
    root.cleanup();
  }
}
