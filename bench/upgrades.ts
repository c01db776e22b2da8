// Issue 16 benchmark: one agent upgrade to N simulated agents through one `drover server`: time from
// `drover upgrade agents` until the server shows every agent Succeeded, and the bytes delivered.
// The agents are simulated in this process but speak the real protocol: real registrations, one
// TunnelClient each, and the real `http:drover-upgrade` exchange — the order's signature and the
// streamed artifact's SHA-256 are really verified (protocol/release-verify.ts) — but instead of
// swapping and restarting, each reports itself running the new executable at once. Baseline from
// the same run: a no-op node plan rolled out to the same agents by the same planner
// (`plan apply --concurrency 100%`), i.e. what the upgrade costs beyond one rollout round trip.
// The artifact is ARTIFACT_MIB MiB sampled evenly from the real packaged executable when one is
// built (dist/ or the tests' build cache), so compression (decision 1130) sees real bytes; the
// simulated agents take gzip like the real ones unless `--encoding identity` (the behaviour before).
// Usage: node bench/upgrades.ts [--agents 1000] [--artifact-mib 4] [--encoding gzip|identity]
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { homedir } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStreamHttpServer } from '../protocol/index.ts';
import { upgradeOrderSchema, type UpgradeStateWire } from '../protocol/contracts/agent-upgrade.ts';
import { verifiedVersion, verifyRelease } from '../protocol/release-verify.ts';
import type { TunnelClient } from '../agents/common/tunnel-client.ts';
import { drover, startServer, waitFor } from '../test/e2e/agent-helpers.ts';
import { describeMachine, busyWarning } from './lib/machine.ts';
import { connectSims, enrol, readJson, sendJson } from './lib/sim-agents.ts';
import { processCpuMs } from './lib/cpu.ts';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(name);
  return i > 0 ? String(process.argv[i + 1]) : dflt;
};
const AGENTS = Number(arg('--agents', '1000'));
const ARTIFACT_MIB = Number(arg('--artifact-mib', '4'));
const ENCODING = arg('--encoding', 'gzip');
const MiB = 1024 * 1024;

/** The real packaged executable, if one was built here. */
function realExecutable(): string | undefined {
  const candidates = [path.join(import.meta.dirname, '..', 'dist', 'drover-linux-amd64'), path.join(process.env['DROVER_BUILD_CACHE'] ?? path.join(homedir(), '.cache', 'drover'), 'test-dist', 'drover-linux-amd64')];
  return candidates.find((f) => existsSync(f));
}

/** `mib` MiB taken in 64 KiB blocks spread evenly over the real executable (else pseudo-random
 *  blocks half filled with zeros, about as compressible as the executable). */
function artifactBytes(mib: number): Buffer {
  const out = Buffer.alloc(mib * MiB);
  const block = 64 * 1024;
  const blocks = out.length / block;
  const real = realExecutable();
  const src = real ? readFileSync(real) : undefined;
  let x = 0x9e3779b9;
  for (let i = 0; i < blocks; i++) {
    if (src) src.copy(out, i * block, Math.floor((i * (src.length - block)) / blocks), Math.floor((i * (src.length - block)) / blocks) + block);
    else for (let j = 0; j < block / 2; j++) out[i * block + j] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  }
  return out;
}

/** One simulated agent: verifies like the real one, never swaps. */
class SimAgent {
  phase: UpgradeStateWire['phase'] = 'Idle';
  running = 'old';
  sha: string | null = null;
  bytes = 0;
  total = 0;
  received = 0;
  plan: { checksum: string } | undefined;
  readonly http = createStreamHttpServer({ request: (req, res) => void this.#handle(req, res).catch(() => res.destroy()) });
  readonly key: string;
  constructor(key: string) {
    this.key = key;
  }

  #state(): UpgradeStateWire {
    return { phase: this.phase, version: '0.2.0', sha256: this.sha, bytes: this.bytes, total: this.total, message: '', runningSha256: this.running, runningVersion: 'bench', arch: 'amd64', ...(ENCODING === 'gzip' ? { encodings: ['gzip'] } : {}) };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (body: unknown): void => sendJson(res, body);
    const url = req.url ?? '/';
    if (url.startsWith('/v1/upgrade/artifact')) {
      // The whole staged file is hashed at the end, as the real agent does (decompressed first).
      for await (const c of req as AsyncIterable<Buffer>) {
        this.parts.push(c);
        this.bytes += c.length;
        this.received += c.length;
      }
      const done = this.bytes === this.total;
      if (done && createHash('sha256').update(this.gzip ? gunzipSync(Buffer.concat(this.parts)) : Buffer.concat(this.parts)).digest('hex') === this.sha) {
        // Instead of swap + restart + health gate: report the new executable running.
        this.phase = 'Succeeded';
        this.running = this.sha;
        send({ ...this.#state(), phase: 'Staged' });
      } else send(this.#state());
      return;
    }
    const body = await readJson(req);
    if (url === '/v1/upgrade' && req.method === 'POST') {
      const order = upgradeOrderSchema.parse(body);
      const v = verifyRelease({ sumsText: order.sums, signature: order.signature, publicKeyPem: this.key, arch: 'amd64' });
      verifiedVersion(v.sums, Buffer.from(`${order.version}\n`));
      this.sha = v.sha256;
      this.phase = 'Downloading';
      this.gzip = order.encoding === 'gzip';
      this.total = this.gzip ? (order.encodedSize ?? 0) : order.size;
      this.bytes = 0;
      this.parts = [];
      send(this.#state());
    } else if (url === '/v1/upgrade') send(this.#state());
    // The baseline's node plan: held and Succeeded at once, reported through the outbox.
    else if (url === '/v1/node/resume') send({ plans: this.plan ? [{ name: 'bench', checksum: this.plan.checksum, state: 'Succeeded' }] : [], clock: { now: new Date().toISOString(), utcOffsetMinutes: 0 } });
    else if (req.method === 'PUT' && url.startsWith('/v1/node/plans/')) {
      const { checksum } = body as { checksum: string };
      this.plan = { checksum };
      this.outbox = [{ seq: 1, result: { plan: 'bench', checksum, source: 'server', state: 'Succeeded', instruction: null, exitCode: 0, message: 'Succeeded', since: new Date().toISOString() } }];
      send({ name: 'bench', checksum, state: 'Pending' });
    } else if (url.startsWith('/v1/node/outbox') && req.method === 'GET') send({ rows: this.outbox });
    else if (url.startsWith('/v1/node/outbox')) {
      this.outbox = [];
      send({ removed: 1 });
    } else send({});
  }

  outbox: { seq: number; result: Record<string, unknown> }[] = [];
  parts: Buffer[] = [];
  gzip = false;
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const dir = mkdtempSync(path.join(tmpdir(), 'drover-bench-upgrades-'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const pubFile = path.join(dir, 'release.pub.pem');
  writeFileSync(pubFile, pub);
  const env = { DROVER_LOG_LEVEL: 'warn', DROVER_RELEASE_PUBLIC_KEY: pubFile, DROVER_UPGRADE_SYNC_MS: '500', DROVER_PLAN_SYNC_MS: '500' };
  const server = await startServer(path.join(dir, 'server'), 0, { ...env, DROVER_LOG_LEVEL: 'info' });
  const pid = server.proc.child.pid ?? 0;
  const clients: TunnelClient[] = [];
  const sims: SimAgent[] = [];
  try {
    // A release of ARTIFACT_MIB MiB, signed like `npm run package` signs.
    const rel = path.join(dir, 'release');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(rel);
    const exe = artifactBytes(ARTIFACT_MIB);
    const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
    writeFileSync(path.join(rel, 'VERSION'), '0.2.0\n');
    writeFileSync(path.join(rel, 'drover-linux-amd64'), exe);
    const sums = `${sha('0.2.0\n')}  VERSION\n${sha(exe)}  drover-linux-amd64\n`;
    writeFileSync(path.join(rel, 'sha256sums'), sums);
    writeFileSync(path.join(rel, 'sha256sums.sig'), sign(null, Buffer.from(sums), privateKey).toString('base64'));
    const imp = await drover(['release', 'import', rel, '--data-dir', server.dataDir], env);
    if (imp.exitCode !== 0) throw new Error(`release import: ${imp.stderr}`);

    const e = await enrol(server, { bench: 'upgrades' });
    // One endpoint answers both targets (http:drover-upgrade and the baseline's http:drover-plans).
    await connectSims(e, clients, AGENTS, 'node', 'u', () => {
      const sim = new SimAgent(pub);
      sims.push(sim);
      return (s) => sim.http.serve(s);
    });
    await waitFor(`${AGENTS} tunnels`, () => clients.every((c) => c.state.state === 'connected'), 900_000);
    await sleep(3_000);

    // Baseline: the same agents, the same planner, a no-op node plan.
    const planFile = path.join(dir, 'plan.yaml');
    writeFileSync(planFile, 'kind: Plan\ninstructions: [{command: /bin/true, timeout: 10s}]\n');
    let cpu0 = processCpuMs(pid);
    let t0 = performance.now();
    const p = await drover(['plan', 'apply', planFile, '--name', 'bench', '--target', 'bench=upgrades', '--concurrency', '100%', '--data-dir', server.dataDir], env);
    if (p.exitCode !== 0) throw new Error(`plan apply: ${p.stderr}`);
    await waitFor('plan Succeeded everywhere', async () => {
      const s = JSON.parse((await drover(['plan', 'status', 'bench', '--json', '--data-dir', server.dataDir], env)).stdout) as { summary: { succeeded: number } };
      return s.summary.succeeded >= AGENTS;
    }, 1_800_000);
    const planS = (performance.now() - t0) / 1000;
    const planCpu = (processCpuMs(pid) - cpu0) / 1000;

    cpu0 = processCpuMs(pid);
    t0 = performance.now();
    const u = await drover(['upgrade', 'agents', '--version', '0.2.0', '--target', 'bench=upgrades', '--max-unavailable', '100%', '--data-dir', server.dataDir], env);
    if (u.exitCode !== 0) throw new Error(`upgrade agents: ${u.stderr}`);
    await waitFor('every agent upgraded', async () => {
      const s = JSON.parse((await drover(['upgrade', 'status', '--json', '--data-dir', server.dataDir], env)).stdout) as { summary: { succeeded: number } };
      return s.summary.succeeded >= AGENTS;
    }, 1_800_000);
    const upS = (performance.now() - t0) / 1000;
    const upCpu = (processCpuMs(pid) - cpu0) / 1000;
    const bytes = sims.reduce((n, s) => n + s.received, 0);

    console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`);
    console.log(`${AGENTS} simulated agents (in-process tunnel clients), one server, --max-unavailable 100%, no canary:`);
    console.log(`  artifact: ${ARTIFACT_MIB} MiB ${realExecutable() ? 'sampled from the real executable' : 'synthetic (no packaged executable here)'}; encoding ${ENCODING}`);
    console.log(`  upgrade agents → all Succeeded: ${upS.toFixed(1)} s; server CPU ${upCpu.toFixed(1)} s; ${(bytes / MiB).toFixed(0)} MiB delivered (${(bytes / AGENTS / MiB).toFixed(2)} MiB per agent, ${(bytes / MiB / upS).toFixed(0)} MiB/s through the tunnels)`);
    console.log(`  baseline, no-op plan → all Succeeded (same agents, same planner): ${planS.toFixed(1)} s; server CPU ${planCpu.toFixed(1)} s`);
    console.log(`  ratio upgrade / plan: ×${(upS / planS).toFixed(2)}`);
    const dist = path.join(import.meta.dirname, '..', 'dist', 'drover-linux-amd64');
    try {
      const real = realExecutable() ?? dist;
      const gz = (await import('node:zlib')).gzipSync(readFileSync(real), { level: 9 }).length;
      console.log(`  download size of the real executable (${real}): ${(statSync(real).size / MiB).toFixed(1)} MiB, ${(gz / MiB).toFixed(1)} MiB as sent with gzip`);
    } catch {
      console.log('  (no dist/drover-linux-amd64 here: run npm run package for the real download size)');
    }
    const warn = busyWarning(machine.cores, machine.loadAtStart, (await import('node:os')).loadavg()[0] ?? 0);
    if (warn) console.log(warn);
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
    await server.proc.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
