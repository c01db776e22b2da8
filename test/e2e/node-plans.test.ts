// Node plans end to end on real processes (issue 15): `drover server`, a registered agent running
// `agent run --roles node`, the `drover plan …` and `drover node …` commands. Plans write files in
// the test's temp dir and run /bin/sh; the server's results are read through the CLI, and the
// exactly-once check compares the agent's outbox sequence with what the server stored.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createToken, drover, startAgent, startServer, waitFor, type Proc, type ServerProc } from './agent-helpers.ts';

const FAST = { DROVER_PLAN_SYNC_MS: '200' };
const AGENT_ENV = { DROVER_NODE_PLAN_SCAN_MS: '200', DROVER_LOG_LEVEL: 'info' };

interface Status { name: string; checksum: string; summary: Record<string, number>; nodes: { id: string; state: string; checksum: string | null; instruction: string | null; exitCode: number | null; message: string; since: string | null }[] }

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-plans-e2e-'));
let server: ServerProc;
let agent: Proc;
const agentDir = path.join(tmp, 'agent');
const work = path.join(tmp, 'work');
let nodeId = '';

const admin = (args: string[]) => drover([...args, '--data-dir', server.dataDir]);
async function status(name: string): Promise<Status | undefined> {
  const r = await admin(['plan', 'status', name, '--json']);
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as Status) : undefined;
}
async function finished(name: string, states = ['Succeeded', 'RolledBack', 'Failed', 'Canceled', 'Paused']): Promise<Status> {
  return waitFor(`plan ${name} to finish`, async () => {
    const s = await status(name);
    return s && s.nodes.length > 0 && s.nodes.every((n) => n.checksum === s.checksum && states.includes(n.state)) ? s : undefined;
  }, 60_000);
}
function writePlan(name: string, yaml: string): string {
  const f = path.join(tmp, `${name}.yaml`);
  fs.writeFileSync(f, yaml);
  return f;
}

t.before(async () => {
  fs.mkdirSync(work);
  server = await startServer(path.join(tmp, 'server'), 0, FAST);
  const token = await createToken(server.dataDir, ['--labels', 'site=lab']);
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', 'edge-1', '--data-dir', agentDir]);
  if (reg.exitCode !== 0) throw new Error(reg.stderr);
  agent = startAgent(agentDir, ['--roles', 'node'], AGENT_ENV);
  const nodes = await waitFor('the node to be connected', async () => {
    const r = await admin(['node', 'list', '--json']);
    const list = JSON.parse(r.stdout) as { id: string; state: string }[];
    return list.length === 1 && list[0]?.state === 'Connected' ? list : undefined;
  });
  nodeId = nodes[0]!.id;
});

t.teardown(async () => {
  await agent?.stop();
  await server?.proc.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

t.test('plan apply: bad plans are refused with exit 2 and nothing is stored', async (t) => {
  const bad: Record<string, string> = {
    'unknown key': `kind: Plan\ninstructions:\n  - command: /bin/true\n    timeout: 5s\n    retries: 3\n`,
    'relative path': `kind: Plan\nfiles:\n  - path: etc/motd\n    content: hi\n`,
    'dot-dot': `kind: Plan\nfiles:\n  - path: /etc/../root/x\n    content: hi\n`,
    'missing command': `kind: Plan\ninstructions:\n  - timeout: 5s\n`,
    'no timeout': `kind: Plan\ninstructions:\n  - command: /bin/true\n`,
    'not a plan': `kind: Deployment\n`,
  };
  for (const [what, yaml] of Object.entries(bad)) {
    const r = await admin(['plan', 'apply', writePlan('bad', yaml), '--target', 'site=lab']);
    t.equal(r.exitCode, 2, `${what}: exit 2`);
    t.match(r.stderr, /invalid/, `${what}: says why (${r.stderr.split('\n')[1]?.trim()})`);
  }
  t.match((await admin(['plan', 'apply', writePlan('ok', `kind: Plan\ninstructions: [{command: /bin/true, timeout: 5s}]\n`), '--target', 'site in ('])).stderr, /selector/);
  t.equal((await admin(['plan', 'apply', writePlan('ok', `kind: Plan\ninstructions: [{command: /bin/true, timeout: 5s}]\n`), '--target', 'site=lab', '--window', 'Caturday 01:00-02:00'])).exitCode, 2);
  t.equal((await admin(['plan', 'apply', writePlan('ok', `kind: Plan\ninstructions: [{command: /bin/true, timeout: 5s}]\n`)])).exitCode, 2, '--target is required');
  t.same(JSON.parse((await admin(['plan', 'list', '--json'])).stdout), [], 'nothing stored');
});

t.test('plan apply: a plan that writes a file and runs a command succeeds; exit code and output reach the server', async (t) => {
  const f = path.join(work, 'motd');
  const file = writePlan('motd', `apiVersion: drover.dev/v1
kind: Plan
metadata: {name: motd}
files:
  - path: ${f}
    content: "hello from drover\\n"
    mode: "0640"
instructions:
  - name: show
    command: /bin/sh
    args: ["-c", "cat ${f}; uname -s"]
    timeout: 30s
    idempotent: true
`);
  const r = await admin(['plan', 'apply', file, '--target', 'site=lab']);
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, /plan motd applied: checksum [0-9a-f]{64}, 1 node targeted/);
  const s = await finished('motd');
  t.match(s.summary, { succeeded: 1, failed: 0, offline: 0 });
  t.equal(fs.readFileSync(f, 'utf8'), 'hello from drover\n');
  t.equal(fs.statSync(f).mode & 0o777, 0o640);
  const node = JSON.parse((await admin(['node', 'get', nodeId, '--json'])).stdout) as { plans: { name: string; state: string; steps: Record<string, { exitCode: number; output: string }> }[] };
  const p = node.plans.find((x) => x.name === 'motd');
  t.match(p?.steps['instruction show'], { exitCode: 0, output: /hello from drover\nLinux/ });
  t.match((await admin(['plan', 'status', 'motd'])).stdout, /Succeeded/);
  t.match((await admin(['plan', 'list'])).stdout, /motd/);
});

t.test('plan: a hanging instruction stops at its timeout and the plan rolls back', async (t) => {
  const f = path.join(work, 'hang-config');
  fs.writeFileSync(f, 'before');
  await admin(['plan', 'apply', writePlan('hang', `kind: Plan\nfiles: [{path: ${f}, content: after}]\ninstructions:\n  - {name: hang, command: /bin/sleep, args: ["600"], timeout: 2s}\n`), '--target', 'site=lab']);
  const s = await finished('hang');
  t.equal(s.nodes[0]?.state, 'RolledBack');
  t.match(s.nodes[0]?.message, /instruction hang failed: timed out after 2000 ms/);
  t.equal(fs.readFileSync(f, 'utf8'), 'before', 'the previous file version is back');
});

t.test('plan: an exec probe that fails rolls the plan back; pause and resume', async (t) => {
  await admin(['plan', 'apply', writePlan('probe', `kind: Plan\ninstructions: [{command: /bin/true, timeout: 5s}]\nprobes:\n  - {name: never, exec: {command: /bin/false}, period: 200ms, failureThreshold: 2}\n`), '--target', 'site=lab']);
  const s = await finished('probe');
  t.equal(s.nodes[0]?.state, 'RolledBack');
  t.match(s.nodes[0]?.message, /probe never failed 2 times in a row/);
  t.equal((await admin(['plan', 'pause', 'nope'])).exitCode, 1, 'an unknown plan');
  t.equal((await admin(['plan', 'pause', 'probe'])).exitCode, 0);
  t.match((JSON.parse((await admin(['plan', 'list', '--json'])).stdout) as { name: string }[]).find((p) => p.name === 'probe'), { paused: true });
  t.equal((await admin(['plan', 'resume', 'probe'])).exitCode, 0);
});

t.test('plan cancel: a running plan finishes its current step, rolls back and ends Canceled', async (t) => {
  const f = path.join(work, 'cancel-config');
  fs.writeFileSync(f, 'kept');
  const steps = Array.from({ length: 30 }, (_, i) => `  - {name: c${i}, command: /bin/sleep, args: ["1"], timeout: 20s, idempotent: true}`).join('\n');
  await admin(['plan', 'apply', writePlan('cancel-me', `kind: Plan\nfiles: [{path: ${f}, content: replaced}]\ninstructions:\n${steps}\n`), '--target', 'site=lab']);
  await waitFor('the plan to run', async () => (await status('cancel-me'))?.nodes[0]?.state === 'InProgress');
  t.equal((await admin(['plan', 'cancel', 'cancel-me'])).exitCode, 0);
  const s = await finished('cancel-me');
  t.equal(s.nodes[0]?.state, 'Canceled');
  t.match(s.nodes[0]?.message, /canceled and rolled back/);
  t.equal(fs.readFileSync(f, 'utf8'), 'kept', 'the file is back');
  t.match((JSON.parse((await admin(['plan', 'list', '--json'])).stdout) as { name: string }[]).find((p) => p.name === 'cancel-me'), { canceled: true });
});

t.test('plan: with the link cut mid-plan the node finishes it, and the results arrive in order, exactly once, after reconnect', async (t) => {
  const marks = path.join(work, 'offline');
  fs.mkdirSync(marks);
  const steps = Array.from({ length: 6 }, (_, i) => `  - {name: s${i}, command: /bin/sh, args: ["-c", "sleep 1; echo ${i} >> ${marks}/order"], timeout: 20s}`).join('\n');
  await admin(['plan', 'apply', writePlan('offline', `kind: Plan\ninstructions:\n${steps}\n`), '--target', 'site=lab']);
  // The node's own progress (a local file), not the server's view: the link is cut right after the first step.
  await waitFor('the plan to start on the node', () => fs.existsSync(`${marks}/order`), 60_000);
  await server.proc.stop('SIGKILL');
  const doneAtCut = fs.readFileSync(`${marks}/order`, 'utf8').split('\n').length - 1;
  t.ok(doneAtCut < 6, `the link was cut mid-plan (${doneAtCut} of 6 steps done)`);
  await waitFor('the node to finish the plan with the server down', () => fs.existsSync(`${marks}/order`) && fs.readFileSync(`${marks}/order`, 'utf8').split('\n').length === 7, 30_000);
  const pending = new Database(path.join(agentDir, 'agent.db'), { readonly: true });
  t.ok((pending.prepare('SELECT COUNT(*) FROM node_outbox').pluck().get() as number) > 0, 'results wait in the outbox');
  pending.close();
  server = await startServer(server.dataDir, server.port, FAST);
  const s = await finished('offline');
  t.equal(s.nodes[0]?.state, 'Succeeded');
  t.equal(fs.readFileSync(`${marks}/order`, 'utf8'), '0\n1\n2\n3\n4\n5\n');
  await waitFor('the outbox to drain', () => {
    const db = new Database(path.join(agentDir, 'agent.db'), { readonly: true });
    try {
      return (db.prepare('SELECT COUNT(*) FROM node_outbox').pluck().get() as number) === 0;
    } finally {
      db.close();
    }
  });
  // Every row the agent ever queued is stored once: the server's count equals the agent's last sequence.
  const agentDb = new Database(path.join(agentDir, 'agent.db'), { readonly: true });
  const lastSeq = agentDb.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'node_outbox'`).pluck().get() as number;
  agentDb.close();
  const serverDb = new Database(path.join(server.dataDir, 'plans.db'), { readonly: true });
  const reports = serverDb.prepare('SELECT SUM(reports) FROM plan_nodes WHERE node_id = ?').pluck().get(nodeId) as number;
  serverDb.close();
  t.equal(reports, lastSeq, `${reports} results stored for ${lastSeq} queued`);
});

t.test('plan: the local plan directory is verified and run the same way; an invalid file is refused', async (t) => {
  const f = path.join(work, 'from-usb');
  fs.mkdirSync(path.join(agentDir, 'plans'), { recursive: true });
  fs.writeFileSync(path.join(agentDir, 'plans', 'usb.yaml'), `kind: Plan\nfiles: [{path: ${f}, content: air-gapped}]\ninstructions: [{name: ls, command: /bin/ls, args: [${f}], timeout: 5s, idempotent: true}]\n`);
  fs.writeFileSync(path.join(agentDir, 'plans', 'broken.yaml'), `kind: Plan\nfiles: [{path: relative/x, content: no}]\n`);
  await waitFor('the local plan to run', () => fs.existsSync(f));
  t.equal(fs.readFileSync(f, 'utf8'), 'air-gapped');
  await waitFor('the refusal to be written', () => fs.existsSync(path.join(agentDir, 'plans', 'broken.yaml.rejected')));
  t.match(fs.readFileSync(path.join(agentDir, 'plans', 'broken.yaml.rejected'), 'utf8'), /relative path/);
  const node = await waitFor('the local plan result at the server', async () => {
    const n = JSON.parse((await admin(['node', 'get', nodeId, '--json'])).stdout) as { plans: { name: string; state: string; source: string; message: string }[] };
    return n.plans.find((p) => p.name === 'usb' && p.state === 'Succeeded') && n.plans.find((p) => p.name === 'broken') ? n : undefined;
  });
  t.match(node.plans.find((p) => p.name === 'usb'), { source: 'local', state: 'Succeeded' });
  t.match(node.plans.find((p) => p.name === 'broken'), { source: 'local', state: 'Failed', message: /refused: .*relative path/ });
});

t.test('plan status: an offline node is shown as deferred, not failed', async (t) => {
  await agent.stop();
  await admin(['plan', 'apply', writePlan('later', `kind: Plan\ninstructions: [{command: /bin/true, timeout: 5s}]\n`), '--target', 'site=lab']);
  const s = await waitFor('the node to be offline in the status', async () => {
    const x = await status('later');
    return x?.nodes[0]?.state === 'Offline' ? x : undefined;
  });
  t.match(s.summary, { offline: 1, failed: 0, pending: 0 });
  agent = startAgent(agentDir, ['--roles', 'node'], AGENT_ENV);
  t.equal((await finished('later')).nodes[0]?.state, 'Succeeded', 'it runs once the node is back');
});
