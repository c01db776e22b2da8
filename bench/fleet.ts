// Issue 6 benchmark: time for one bundle change to reach N fleet agents through one `drover
// server`. The agents are simulated in this process but speak the real protocol: real
// registrations, one TunnelClient (role fleet) each, and the real `http:drover-fleet` exchange
// (resume, PUT deployment, outbox) answered by a minimal in-memory endpoint instead of SQLite and
// a cluster. Measured: `drover bundle apply` of a new revision until every agent holds it.
// Usage: node bench/fleet.ts [--steps 1000,5000,10000]   (figures, not tests; see bench/README.md)
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStreamHttpServer } from '../protocol/index.ts';
import type { TunnelClient } from '../agents/common/tunnel-client.ts';
import { drover, startServer, waitFor, type ServerProc } from '../test/e2e/agent-helpers.ts';
import { describeMachine, busyWarning } from './lib/machine.ts';
import { connectSims, enrol, readJson, sendJson, SimOutbox } from './lib/sim-agents.ts';

const argSteps = process.argv.indexOf('--steps');
const STEPS = (argSteps > 0 ? String(process.argv[argSteps + 1]) : '1000,5000,10000').split(',').map(Number);

/** One simulated fleet agent: what it holds, when each revision arrived, and the Ready status it
 *  queues for each (drained by the server like a real agent's outbox). */
class SimAgent {
  readonly held = new Map<string, string>();
  readonly arrived = new Map<string, number>();
  readonly #outbox = new SimOutbox<{ createdAt: string; status: Record<string, unknown> }>();
  readonly http = createStreamHttpServer({ request: (req, res) => void this.#handle(req, res) });

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const url = req.url ?? '/';
    if (url === '/v1/fleet/resume') sendJson(res, { deployments: [...this.held].map(([deploymentId, revision]) => ({ deploymentId, revision })) });
    else if (req.method === 'PUT') {
      const d = body as { id: string; revision: string };
      this.held.set(d.id, d.revision);
      this.arrived.set(d.revision, performance.now());
      this.#outbox.push({ createdAt: new Date().toISOString(), status: { deploymentId: d.id, bundle: d.id, revision: d.revision, appliedRevision: d.revision, state: 'Ready', message: 'simulated', nonReady: [], modified: [] } });
      sendJson(res, { deploymentId: d.id, revision: d.revision });
    } else if (url.startsWith('/v1/fleet/outbox') && req.method === 'GET') {
      sendJson(res, { rows: this.#outbox.page(500) });
    } else if (url.startsWith('/v1/fleet/outbox')) {
      sendJson(res, { removed: this.#outbox.ack((body as { seq: number }).seq) });
    } else sendJson(res, { removed: true });
  }
}
async function main(): Promise<void> {
  const machine = describeMachine();
  const dir = mkdtempSync(path.join(tmpdir(), 'drover-bench-fleet-'));
  // DROVER_BENCH_SERVER_CPU_PROF=DIR: a V8 CPU profile of the server process, written when it stops.
  const prof = process.env.DROVER_BENCH_SERVER_CPU_PROF;
  const server = await startServer(path.join(dir, 'server'), 0, { DROVER_LOG_LEVEL: 'info', ...(prof ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${prof}` } : {}) });
  const clients: TunnelClient[] = [];
  const sims: SimAgent[] = [];
  const bundleDir = path.join(dir, 'bundle');
  mkdirSync(bundleDir);
  const rows: string[] = [];
  try {
    const e = await enrol(server, { bench: 'fleet' });
    let change = 0;
    for (const step of STEPS) {
      await connectSims(e, clients, step, 'fleet', 'f', () => {
        const sim = new SimAgent();
        sims.push(sim);
        return (s) => sim.http.serve(s);
      });
      await waitFor(`${step} tunnels`, () => clients.every((c) => c.state.state === 'connected'), 900_000);
      // Let the first sync round (resume points, earlier revisions) settle before timing a change.
      await sleep(5_000);
      change++;
      writeFileSync(path.join(bundleDir, 'cm.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bench, namespace: default}\ndata: {change: "${change}-${step}"}\n`);
      const t0 = performance.now();
      const r = await drover(['bundle', 'apply', bundleDir, '--name', 'bench', '--json', '--data-dir', server.dataDir]);
      if (r.exitCode !== 0) throw new Error(`bundle apply: ${r.stderr}`);
      const applied = performance.now();
      const revisions = new Set((JSON.parse(r.stdout) as { revision: string }[]).map((x) => x.revision));
      // Every cluster renders the same set here, so each agent gets the one set revision.
      const status = JSON.parse((await drover(['bundle', 'status', 'bench', '--json', '--data-dir', server.dataDir])).stdout) as { clusters: { revision?: string }[] };
      const setRevision = status.clusters.find((c) => c.revision !== undefined)?.revision ?? '';
      await waitFor(`${step} agents at the new revision`, () => sims.every((s) => s.held.get('bench') === setRevision), 900_000);
      const times = sims.map((s) => (s.arrived.get(setRevision) ?? applied) - t0).sort((a, b) => a - b);
      const pct = (p: number): string => ((times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] ?? 0) / 1000).toFixed(2);
      // The loop closed: every agent's Ready status for the new revision stored by the server.
      await waitFor(`${step} Ready at the server`, async () => {
        const s = JSON.parse((await drover(['bundle', 'status', 'bench', '--json', '--data-dir', server.dataDir])).stdout) as { summary: { ready: number } };
        return s.summary.ready >= step;
      }, 900_000);
      const allReady = ((performance.now() - t0) / 1000).toFixed(2);
      rows.push(`${String(step).padStart(6)} agents: apply answered in ${((applied - t0) / 1000).toFixed(2)} s; change reached p50 ${pct(50)} s, p99 ${pct(99)} s, all ${pct(100)} s; all Ready at the server ${allReady} s (after \`bundle apply\` started, ${revisions.size} bundle revision)`);
      console.log(rows.at(-1));
    }
    console.log(`\nmachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`);
    console.log('one bundle change (one small ConfigMap) to N simulated fleet agents through one server:');
    for (const r of rows) console.log(r);
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
