// Issue 17 benchmark: server replicas on Debian's PostgreSQL (test/pg/harness.ts), separate
// processes, measured in the same run:
//  1. Proxied GET latency of one small object (a real cluster agent in front of a real
//     kube-apiserver, admin token, keep-alive) through the replica that holds the cluster's tunnel
//     vs through another replica that forwards the stream to it (peer link, mutual TLS). Rounds
//     interleave the two; the ratio is forwarding / owning.
//  1b. The same comparison for a `drover shell` session (open the upgraded connection, run `true`
//     on the node agent, read its exit status): the node-role tunnel sits on the owning replica.
//  2. N simulated agents (the agents' own TunnelClient, as bench/tunnels.ts) spread over 3 replicas
//     (each dialled directly: HAProxy would need 2 descriptors per tunnel beyond this machine's fd
//     limit): each replica's RSS and idle CPU once all are connected.
// Usage: node bench/ha.ts [--agents 10000] [--gets 300]   (figures, not tests; see bench/README.md)
import https from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import path from 'node:path';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster } from '../test/k8s/harness.ts';
import { startPostgres } from '../test/pg/harness.ts';
import { freePort } from '../test/ha/haproxy.ts';
import { agentStatus, createToken, drover, Proc, startAgent, waitFor } from '../test/e2e/agent-helpers.ts';
import { fetchCa } from '../agents/common/server-api.ts';
import { transportFor } from '../agents/common/https-client.ts';
import { TunnelClient } from '../agents/common/tunnel-client.ts';
import { silentLogger } from '../agents/common/logger.ts';
import { registerAgents } from './lib/register-agents.ts';
import { SHELL_FRAME, ShellFrameDecoder } from '../protocol/index.ts';
import { describeMachine, busyWarning } from './lib/machine.ts';
import { summarize } from './lib/stats.ts';
import { rssBytes } from './lib/rss.ts';
import { processCpuMs } from './lib/cpu.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const AGENTS = arg('--agents', 10_000);
const GETS = arg('--gets', 300);
const ROUNDS = 3;
const IDLE_MS = 10_000;
const WAVE = 500;

interface Replica { name: string; dir: string; url: string; proc: Proc }

async function main(): Promise<void> {
  const machine = describeMachine();
  const root = mkdtempSync(path.join(tmpdir(), 'drover-bench-ha-'));
  const [postgres, cluster] = await Promise.all([startPostgres(), startCluster({ nodes: 1 })]);
  const replicas: Replica[] = [];
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    const datastore = await postgres.createDatabase('bench');
    const replica = async (name: string, copyFrom?: string): Promise<Replica> => {
      const dir = path.join(root, name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (copyFrom) {
        cpSync(path.join(copyFrom, 'tls'), path.join(dir, 'tls'), { recursive: true });
        for (const f of ['admin-token', 'secrets.key']) if (existsSync(path.join(copyFrom, f))) cpSync(path.join(copyFrom, f), path.join(dir, f));
      }
      const [port, peer] = [await freePort(), await freePort()];
      const proc = new Proc(['server', '--data-dir', dir, '--listen', `127.0.0.1:${port}`, '--datastore', datastore, '--advertise-address', `127.0.0.1:${peer}`], { DROVER_LOG_LEVEL: 'warn' });
      await waitFor(`replica ${name}`, () => {
        if (!proc.running) throw new Error(`replica ${name} exited: ${proc.output.slice(-2000)}`);
        return new Promise<boolean>((r) => https.get(`https://127.0.0.1:${port}/readyz`, { rejectUnauthorized: false }, (res) => r(res.statusCode === 200)).on('error', () => r(false)));
      });
      const rep = { name, dir, url: `https://127.0.0.1:${port}`, proc };
      replicas.push(rep);
      return rep;
    };
    const r0 = await replica('r0');
    await Promise.all([replica('r1', r0.dir), replica('r2', r0.dir)]);
    replicas.sort((a, b) => a.name.localeCompare(b.name));
    cleanup.push(() => Promise.all(replicas.map((r) => r.proc.stop())));
    const ca = (await fetchCa(r0.url, transportFor(r0.url, {}))).pem;
    const { readFileSync } = await import('node:fs');
    const adminToken = readFileSync(path.join(r0.dir, 'admin-token'), 'utf8').trim();

    // 1. Latency: the real cluster agent on r0; GETs through r0 (owning) and r1 (forwarding).
    const agentDir = path.join(root, 'agent');
    const reg = await drover(['agent', 'register', '--server', r0.url, '--token', await createToken(r0.dir), '--name', 'bench', '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
    if (reg.exitCode !== 0) throw new Error(reg.stderr);
    const agent = startAgent(agentDir, ['--roles', 'cluster']);
    cleanup.unshift(() => agent.stop());
    const st = await waitFor('agent connected', async () => ((await agentStatus(agentDir)).roles[0]?.state === 'connected' ? agentStatus(agentDir) : undefined));
    // A node agent (node role only, as on an edge host) on r0 too, for the shell sessions of 1b.
    const nodeDir = path.join(root, 'node-agent');
    const nodeReg = await drover(['agent', 'register', '--server', r0.url, '--token', await createToken(r0.dir), '--name', 'bench-node', '--data-dir', nodeDir]);
    if (nodeReg.exitCode !== 0) throw new Error(nodeReg.stderr);
    const nodeAgent = startAgent(nodeDir, ['--roles', 'node']);
    cleanup.unshift(() => nodeAgent.stop());
    const node = await waitFor('node agent connected', async () => ((await agentStatus(nodeDir)).roles.find((r) => r.name === 'node')?.state === 'connected' ? agentStatus(nodeDir) : undefined), 120_000)
      .catch((err: unknown) => {
        throw new Error(`${(err as Error).message}\n${nodeAgent.output.slice(-3000)}`);
      });
    const get = (r: Replica, ka: https.Agent): Promise<number> => new Promise((resolve, reject) => {
      const t0 = performance.now();
      https.get(`${r.url}/k8s/clusters/${st.clusterId}/api/v1/namespaces/default/configmaps/kube-root-ca.crt`, { ca, agent: ka, headers: { authorization: `Bearer ${adminToken}` } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`GET via ${r.name}: ${res.statusCode}`))));
      }).on('error', reject);
    });
    const samples = new Map<string, number[]>([['r0', []], ['r1', []]]);
    const kas = new Map(['r0', 'r1'].map((n) => [n, new https.Agent({ keepAlive: true, maxSockets: 1 })]));
    for (const r of replicas.slice(0, 2)) await waitFor(`GET via ${r.name}`, () => get(r, kas.get(r.name)!).then(() => true, () => false));
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of round % 2 === 0 ? replicas.slice(0, 2) : replicas.slice(0, 2).reverse()) {
        for (let i = 0; i < GETS / ROUNDS; i++) samples.get(r.name)!.push(await get(r, kas.get(r.name)!));
      }
    }
    for (const ka of kas.values()) ka.destroy();
    const owning = summarize([...samples.get('r0')!].sort((a, b) => a - b));
    const forwarding = summarize([...samples.get('r1')!].sort((a, b) => a - b));

    // 1b. Shell sessions through r0 (owning) and r1 (forwarding), interleaved the same way.
    const shellOnce = (r: Replica): Promise<number> => new Promise((resolve, reject) => {
      const t0 = performance.now();
      const u = new URL(r.url);
      const sock = tlsConnect({ host: u.hostname, port: Number(u.port), ca }, () => {
        sock.write(`GET /v1/nodes/${node.nodeId}/shell?command=${encodeURIComponent('["true"]')} HTTP/1.1\r\nhost: drover\r\nauthorization: Bearer ${adminToken}\r\nconnection: Upgrade\r\nupgrade: drover-shell\r\n\r\n`);
      });
      let head: Buffer | undefined = Buffer.alloc(0);
      const frames = new ShellFrameDecoder();
      sock.on('error', reject);
      sock.on('close', () => reject(new Error(`shell via ${r.name} closed without an exit status`)));
      sock.on('data', (chunk: Buffer) => {
        let rest = chunk;
        if (head !== undefined) {
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          if (!head.subarray(0, end).toString().startsWith('HTTP/1.1 101')) return reject(new Error(`shell via ${r.name}: ${head.toString().slice(0, 300)}`));
          rest = head.subarray(end + 4);
          head = undefined;
        }
        for (const f of frames.push(rest)) {
          if (f.type === SHELL_FRAME.exit) {
            resolve(performance.now() - t0);
            sock.destroy();
          } else if (f.type === SHELL_FRAME.error) reject(new Error(`shell via ${r.name}: ${f.payload.toString()}`));
        }
      });
    });
    for (const r of replicas.slice(0, 2)) await waitFor(`shell via ${r.name}`, () => shellOnce(r).then(() => true, () => false));
    const shellSamples = new Map<string, number[]>([['r0', []], ['r1', []]]);
    const SHELLS = Math.max(ROUNDS, Math.round(GETS / 5));
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of round % 2 === 0 ? replicas.slice(0, 2) : replicas.slice(0, 2).reverse()) {
        for (let i = 0; i < SHELLS / ROUNDS; i++) shellSamples.get(r.name)!.push(await shellOnce(r));
      }
    }
    const shellOwning = summarize([...shellSamples.get('r0')!].sort((a, b) => a - b));
    const shellForwarding = summarize([...shellSamples.get('r1')!].sort((a, b) => a - b));

    // 2. N simulated agents over the three replicas.
    const secret = (await createToken(r0.dir, ['--uses', '0'])).split('::')[1] ?? '';
    const t0 = performance.now();
    const ids = await registerAgents(r0.url, ca, secret, { from: 0, to: AGENTS, role: 'cluster', prefix: 'ha' });
    const registerMs = performance.now() - t0;
    const before = replicas.map((r) => rssBytes(r.proc.pid));
    const log = silentLogger();
    const transports = replicas.map((r) => transportFor(r.url, {}));
    const clients: TunnelClient[] = [];
    cleanup.unshift(() => Promise.all(clients.map((c) => c.stop())));
    const c0 = performance.now();
    for (let i = 0; i < AGENTS; i++) {
      if (i % WAVE === 0 && i > 0) await waitFor(`${i} tunnels`, () => clients.every((c) => c.state.state === 'connected'), 600_000);
      const id = ids[i]!;
      const k = i % replicas.length;
      const c = new TunnelClient({
        serverUrl: replicas[k]!.url, role: 'cluster', agentId: id.agentId, agentVersion: 'bench', credential: () => id.credential, ca, agent: transports[k]!.agent,
        backoff: { baseMs: 250, capMs: 5_000, stableAfterMs: 30_000, maxExponent: 30 }, random: Math.random, now: Date.now, logger: log,
        facts: async () => ({ hostname: id.agentId, os: 'linux', arch: 'amd64', agentVersion: 'bench' }),
      });
      clients.push(c);
      c.start();
    }
    await waitFor(`${AGENTS} tunnels`, () => clients.every((c) => c.state.state === 'connected'), 900_000);
    const connectMs = performance.now() - c0;
    await sleep(5_000);
    const cpu0 = replicas.map((r) => processCpuMs(r.proc.pid));
    const w0 = performance.now();
    await sleep(IDLE_MS);
    const wall = performance.now() - w0;
    const cpu = replicas.map((r, i) => (processCpuMs(r.proc.pid) - cpu0[i]!) / wall);
    const rss = replicas.map((r) => rssBytes(r.proc.pid));

    const f = (n: number) => n.toFixed(2);
    console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}; load at start ${machine.loadAtStart}`);
    console.log(`\n1. proxied GET of one ConfigMap (${GETS} each, keep-alive, ${ROUNDS} interleaved rounds), 2 replicas on PostgreSQL:`);
    console.log(`   owning replica:     p50 ${f(owning.p50)} ms, p90 ${f(owning.p90)} ms, p99 ${f(owning.p99)} ms`);
    console.log(`   forwarding replica: p50 ${f(forwarding.p50)} ms, p90 ${f(forwarding.p90)} ms, p99 ${f(forwarding.p99)} ms`);
    console.log(`   ratio forwarding/owning: p50 ${f(forwarding.p50 / owning.p50)}x, p99 ${f(forwarding.p99 / owning.p99)}x`);
    console.log(`1b. drover shell session (TLS connect, upgrade, run \`true\` on the node agent, exit status; ${shellSamples.get('r0')!.length} each, interleaved):`);
    console.log(`   owning replica:     p50 ${f(shellOwning.p50)} ms, p90 ${f(shellOwning.p90)} ms, p99 ${f(shellOwning.p99)} ms`);
    console.log(`   forwarding replica: p50 ${f(shellForwarding.p50)} ms, p90 ${f(shellForwarding.p90)} ms, p99 ${f(shellForwarding.p99)} ms`);
    console.log(`   ratio forwarding/owning: p50 ${f(shellForwarding.p50 / shellOwning.p50)}x, p99 ${f(shellForwarding.p99 / shellOwning.p99)}x`);
    console.log(`\n2. ${AGENTS} simulated agents over 3 replicas (${Math.ceil(AGENTS / 3)} each); registered in ${(registerMs / 1000).toFixed(1)} s, connected in ${(connectMs / 1000).toFixed(1)} s:`);
    replicas.forEach((r, i) => console.log(`   ${r.name}: RSS ${(rss[i]! / 2 ** 20).toFixed(0)} MiB (${((rss[i]! - before[i]!) / 2 ** 20).toFixed(0)} MiB for its tunnels), idle CPU ${(cpu[i]! * 100).toFixed(1)} % of one core over ${IDLE_MS / 1000} s`));
    const warn = busyWarning(machine.cores, machine.loadAtStart, (await import('node:os')).loadavg()[0] ?? 0);
    if (warn) console.log(`\n${warn}`);
  } finally {
    for (const c of cleanup) await c().catch(() => undefined);
    await Promise.all([postgres.stop(), cluster.stop()]);
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
