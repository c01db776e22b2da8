// Crash safety of node plans on real processes (issue 15 acceptance): the node agent is killed
// with SIGKILL at 20 random points of plans — half at a random moment, half right after a step was
// marked started (mid-instruction) — and restarted each time. Every run must end Succeeded or
// RolledBack, no non-idempotent instruction may have run twice, and the plan's file must hold the
// new version (Succeeded) or the previous one (RolledBack). The random points come from a seeded
// generator; the seed is printed (DROVER_TEST_SEED reruns one).
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { createToken, drover, startAgent, startServer, waitFor, type Proc, type ServerProc } from './agent-helpers.ts';

const KILLS = 20;
const MAX_RUNS = 20;
const STEPS = 6;
const AGENT_ENV = { DROVER_NODE_PLAN_SCAN_MS: '200', DROVER_LOG_LEVEL: 'info' };

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-plans-crash-'));
let server: ServerProc;
let agent: Proc | undefined;
const agentDir = path.join(tmp, 'agent');

/** The plan's row in the agent's database (read-only, as the agent runs). */
function planRow(plan: string): { state: string; step_started: number; instruction: string | null } | undefined {
  try {
    const db = new Database(path.join(agentDir, 'agent.db'), { readonly: true, timeout: 1000 });
    try {
      return db.prepare('SELECT state, step_started, instruction FROM node_plans WHERE name = ?').get(plan) as { state: string; step_started: number; instruction: string | null } | undefined;
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}
const TERMINAL = ['Succeeded', 'RolledBack', 'Failed', 'Canceled', 'Paused'];

t.teardown(async () => {
  await agent?.stop('SIGKILL');
  await server?.proc.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

t.test('plans: kill -9 at 20 random points always ends Succeeded or RolledBack, no non-idempotent step run twice', async (t) => {
  const seed = Number(process.env.DROVER_TEST_SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (DROVER_TEST_SEED=${seed} reruns these kill points)`);
  const random = mulberry32(seed);
  server = await startServer(path.join(tmp, 'server'), 0, { DROVER_PLAN_SYNC_MS: '200' });
  const token = await createToken(server.dataDir, ['--labels', 'site=crash']);
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', 'crashy', '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, reg.stderr);
  const target = path.join(tmp, 'config');
  fs.writeFileSync(target, 'v0');
  let expected = 'v0';
  let landed = 0;
  let midStep = 0;
  const interrupted: string[] = [];
  for (let run = 0; landed < KILLS && run < MAX_RUNS; run++) {
    const dir = path.join(tmp, `run-${run}`);
    fs.mkdirSync(dir);
    // Every third run's last instruction fails: that run must end RolledBack, whatever the kills did.
    const failing = run % 3 === 2;
    const steps = Array.from({ length: STEPS }, (_, i) => {
      const fail = failing && i === STEPS - 1 ? '; exit 7' : '';
      return `  - {name: s${i}, command: /bin/sh, args: ["-c", "echo $$ >> ${dir}/s${i}.runs; sleep 0.3${fail}"], timeout: 20s, idempotent: ${i % 2 === 0}}`;
    }).join('\n');
    const planFile = path.join(tmp, `crash-${run}.yaml`);
    fs.writeFileSync(planFile, `kind: Plan\nfiles: [{path: ${target}, content: v${run + 1}}]\ninstructions:\n${steps}\nrollback:\n  - {name: undo, command: /bin/sh, args: ["-c", "echo undo >> ${dir}/rollback.runs"], timeout: 10s, idempotent: true}\n`);
    const applied = await drover(['plan', 'apply', planFile, '--name', `crash-${run}`, '--target', 'site=crash', '--data-dir', server.dataDir]);
    t.equal(applied.exitCode, 0, applied.stderr);
    const name = `crash-${run}`;
    // Kill points while this run is in progress; once it has finished, the next run takes the rest.
    for (let k = 0; landed < KILLS; k++) {
      if (TERMINAL.includes(planRow(name)?.state ?? 'Pending')) break;
      const proc = startAgent(agentDir, ['--roles', 'node'], AGENT_ENV);
      agent = proc;
      // This life's own progress, from its log: the plan agent is up, or a step began.
      const logged = (msgs: string[]): boolean => proc.logs().some((l) => msgs.includes(String(l.msg)));
      if (k % 2 === 1) {
        // Mid-instruction: as soon as this life starts a step, then a random moment into it.
        const began = await waitFor('a step to start', () => logged(['step started', 'step rerun after an interruption']) || !proc.running || TERMINAL.includes(planRow(name)?.state ?? ''), 20_000);
        if (!began || !proc.running) {
          await proc.stop('SIGKILL');
          break;
        }
        await sleep(random() * 250);
      } else {
        await waitFor('the plan agent to start', () => logged(['node agent running plans from local state']), 20_000);
        await sleep(random() * 1000);
      }
      await agent.stop('SIGKILL');
      const at = planRow(name);
      if (at?.state === 'InProgress' || at?.state === 'Pending') {
        landed++;
        if (at.step_started === 1) {
          midStep++;
          interrupted.push(`${name}: ${at.instruction ?? '?'}`);
        }
      }
    }
    agent = startAgent(agentDir, ['--roles', 'node'], AGENT_ENV);
    const end = await waitFor(`run ${run} to finish`, async () => {
      const r = await drover(['plan', 'status', `crash-${run}`, '--json', '--data-dir', server.dataDir]);
      const s = JSON.parse(r.stdout) as { checksum: string; nodes: { state: string; checksum: string | null; message: string }[] };
      const n = s.nodes[0];
      return n && n.checksum === s.checksum && ['Succeeded', 'RolledBack', 'Failed', 'Canceled'].includes(n.state) ? n : undefined;
    }, 90_000);
    t.ok(['Succeeded', 'RolledBack'].includes(end.state), `run ${run}: ${end.state} (${end.message})`);
    if (failing) t.equal(end.state, 'RolledBack', `run ${run}: the failing instruction rolls it back`);
    for (let i = 1; i < STEPS; i += 2) {
      const runs = fs.existsSync(`${dir}/s${i}.runs`) ? fs.readFileSync(`${dir}/s${i}.runs`, 'utf8').trim().split('\n').length : 0;
      t.ok(runs <= 1, `run ${run}: non-idempotent s${i} ran ${runs} time(s)`);
    }
    if (end.state === 'Succeeded') {
      expected = `v${run + 1}`;
      for (let i = 0; i < STEPS; i++) t.ok(fs.existsSync(`${dir}/s${i}.runs`), `run ${run}: s${i} ran`);
    } else {
      t.ok(fs.existsSync(`${dir}/rollback.runs`), `run ${run}: the rollback instruction ran`);
    }
    t.equal(fs.readFileSync(target, 'utf8'), expected, `run ${run}: the file holds ${expected}`);
    await agent.stop();
  }
  t.equal(landed, KILLS, `${KILLS} kills landed while a plan was in progress`);
  t.ok(midStep >= 3, `${midStep} of them while a step was marked started: ${interrupted.join(', ')}`);
});
