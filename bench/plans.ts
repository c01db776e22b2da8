// Issue 15 benchmark: one node plan to N simulated node agents through one `drover server`: time
// from `drover plan apply` until the server shows every node Succeeded, and the server's CPU and
// memory meanwhile. The agents are simulated in this process but speak the real protocol: real
// registrations, one TunnelClient (role node) each, and the real `http:drover-plans` exchange
// (resume, PUT plan, outbox drain and ack) answered by a minimal in-memory endpoint that reports
// Pending → InProgress → Succeeded at once instead of running the plan. Baseline from the same run:
// the first (smallest) step, so the ratio says how the time per node grows with N.
// Usage: node bench/plans.ts [--steps 1000,5000]   (figures, not tests; see bench/README.md)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStreamHttpServer } from '../protocol/index.ts';
import type { TunnelClient } from '../agents/common/tunnel-client.ts';
import { drover, startServer, waitFor } from '../test/e2e/agent-helpers.ts';
import { describeMachine, busyWarning } from './lib/machine.ts';
import { connectSims, enrol, readJson, sendJson, SimOutbox } from './lib/sim-agents.ts';
import { rssBytes } from './lib/rss.ts';
import { processCpuMs } from './lib/cpu.ts';

const argSteps = process.argv.indexOf('--steps');
const STEPS = (argSteps > 0 ? String(process.argv[argSteps + 1]) : '1000,5000').split(',').map(Number);
const MiB = 1024 * 1024;

/** One simulated node agent: the plans it holds and the results it queues for each (drained like a real outbox). */
class SimNode {
  readonly held = new Map<string, { checksum: string; state: string }>();
  readonly #outbox = new SimOutbox<{ result: Record<string, unknown> }>();
  readonly http = createStreamHttpServer({ request: (req, res) => void this.#handle(req, res) });

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const url = req.url ?? '/';
    const put = /^\/v1\/node\/plans\/([^/]+)$/.exec(url);
    if (url === '/v1/node/resume') sendJson(res, { plans: [...this.held].map(([name, h]) => ({ name, ...h })), clock: { now: new Date().toISOString(), utcOffsetMinutes: 0 } });
    else if (req.method === 'PUT' && put) {
      const name = decodeURIComponent(put[1] ?? '');
      const { checksum } = body as { checksum: string };
      this.held.set(name, { checksum, state: 'Succeeded' });
      const since = new Date().toISOString();
      for (const state of ['Pending', 'InProgress', 'Succeeded']) {
        this.#outbox.push({ result: { plan: name, checksum, source: 'server', state, instruction: state === 'Pending' ? null : 'instruction noop', exitCode: state === 'Succeeded' ? 0 : null, message: state, since } });
      }
      sendJson(res, { name, checksum, state: 'Pending' });
    } else if (url.startsWith('/v1/node/outbox') && req.method === 'GET') {
      sendJson(res, { rows: this.#outbox.page(200) });
    } else if (url.startsWith('/v1/node/outbox')) {
      sendJson(res, { removed: this.#outbox.ack((body as { seq: number }).seq) });
    } else sendJson(res, { canceled: false });
  }
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const dir = mkdtempSync(path.join(tmpdir(), 'drover-bench-plans-'));
  const server = await startServer(path.join(dir, 'server'), 0, { DROVER_LOG_LEVEL: 'info' });
  const pid = server.proc.child.pid ?? 0;
  const clients: TunnelClient[] = [];
  const rows: { step: number; seconds: number; cpuS: number; rssIdle: number; rssPeak: number }[] = [];
  try {
    const e = await enrol(server, { bench: 'plans' });
    for (const step of STEPS) {
      await connectSims(e, clients, step, 'node', 'n', () => {
        const sim = new SimNode();
        return (s) => sim.http.serve(s);
      });
      await waitFor(`${step} tunnels`, () => clients.every((c) => c.state.state === 'connected'), 900_000);
      // Let the first sync round (resume points, earlier plans) settle before timing.
      await sleep(5_000);
      const rssIdle = rssBytes(pid);
      const planFile = path.join(dir, `plan-${step}.yaml`);
      writeFileSync(planFile, `kind: Plan\nfiles: [{path: /tmp/drover-bench-${step}, content: "${step}"}]\ninstructions: [{command: /bin/true, timeout: 10s}]\n`);
      const cpu0 = processCpuMs(pid);
      let rssPeak = rssIdle;
      const t0 = performance.now();
      const r = await drover(['plan', 'apply', planFile, '--name', `bench-${step}`, '--target', 'bench=plans', '--concurrency', '100%', '--data-dir', server.dataDir]);
      if (r.exitCode !== 0) throw new Error(`plan apply: ${r.stderr}`);
      await waitFor(`${step} nodes Succeeded at the server`, async () => {
        rssPeak = Math.max(rssPeak, rssBytes(pid));
        const s = JSON.parse((await drover(['plan', 'status', `bench-${step}`, '--json', '--data-dir', server.dataDir])).stdout) as { summary: { succeeded: number } };
        return s.summary.succeeded >= step;
      }, 1_800_000);
      const seconds = (performance.now() - t0) / 1000;
      rows.push({ step, seconds, cpuS: (processCpuMs(pid) - cpu0) / 1000, rssIdle, rssPeak });
      const row = rows.at(-1)!;
      console.log(`${String(step).padStart(6)} nodes: all Succeeded ${seconds.toFixed(1)} s after \`plan apply\`; server CPU ${row.cpuS.toFixed(1)} s; RSS ${(rssIdle / MiB).toFixed(0)} MiB idle, ${(rssPeak / MiB).toFixed(0)} MiB peak`);
    }
    console.log(`\nmachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`);
    console.log('one plan (a file and a command) to N simulated node agents through one server, --concurrency 100%:');
    const base = rows[0];
    for (const r of rows) {
      const perNode = (r.seconds / r.step) * 1000;
      const ratio = base ? perNode / ((base.seconds / base.step) * 1000) : 1;
      console.log(`${String(r.step).padStart(6)} nodes: ${r.seconds.toFixed(1)} s (${perNode.toFixed(2)} ms per node, ×${ratio.toFixed(2)} the ${base?.step ?? r.step}-node baseline per node); server CPU ${r.cpuS.toFixed(1)} s; RSS peak ${(r.rssPeak / MiB).toFixed(0)} MiB (+${((r.rssPeak - r.rssIdle) / MiB).toFixed(0)} MiB over idle)`);
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
