// Fleet agent core as real processes on a real control plane: a process killed with SIGKILL in
// the middle of applying a 200-object bundle leaves an open journal; a new process on the same
// database resumes at the first unfinished step and completes. Then a fresh process started from
// that database alone (no server exists in this test at all) keeps correcting drift.
import t from 'tap';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { startCluster, tools } from '../k8s/harness.ts';
import { createFleetStore } from '../../agents/fleet/store.ts';
import { statusFingerprint } from '../../agents/fleet/outbox.ts';
import { configMap, deploymentObj, desired, namespace, until } from '../../agents/fleet/test-fixtures.ts';

const STANDALONE = fileURLToPath(new URL('../../agents/fleet/standalone.ts', import.meta.url));
const OBJECTS = 200;
const KILL_AFTER_STEPS = 60;

interface Line { event: string; step?: number; deployments?: { id: string; state?: string; error?: string; corrected: string[] }[] }

function run(args: string[]): { child: ChildProcess; lines: Line[]; next: (pred: (l: Line) => boolean) => Promise<Line>; exit: Promise<{ code: number | null; signal: string | null }> } {
  const child = spawn(process.execPath, [STANDALONE, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Line[] = [];
  const waiters: { pred: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const l = JSON.parse(text) as Line;
    lines.push(l);
    for (const w of [...waiters]) if (w.pred(l)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(l); }
  });
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child, lines, exit,
    next: (pred) => new Promise((resolve, reject) => {
      const seen = lines.find(pred);
      if (seen) return resolve(seen);
      waiters.push({ pred, resolve });
      void exit.then(() => reject(new Error('process exited first')));
    }),
  };
}

t.test('fleet agent: kill -9 mid-apply resumes in a new process; a restarted process keeps enforcing from SQLite', async (t) => {
  const cluster = await startCluster();
  t.teardown(() => cluster.stop());
  const kubectl = (...args: string[]): string => execFileSync(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args], { encoding: 'utf8' });
  const dir = mkdtempSync(join(tmpdir(), 'fleet-crash-'));
  const db = join(dir, 'agent.db');
  const bundle = join(dir, 'bundle.json');
  const manifests = [namespace('bulk'), deploymentObj('web', 'bulk', 2), ...Array.from({ length: OBJECTS - 2 }, (_, i) => configMap(`cm-${String(i).padStart(3, '0')}`, 'bulk', { i: String(i) }))];
  writeFileSync(bundle, JSON.stringify(desired('bulk', 'r1', manifests, { correctDrift: true })));
  const common = ['--db', db, '--kubeconfig', cluster.kubeconfig];
  const countConfigMaps = (): number => kubectl('get', 'configmaps', '-n', 'bulk', '-o', 'name').split('\n').filter((l) => l.startsWith('configmap/cm-')).length;

  await t.test('SIGKILL in the middle of a 200-object apply leaves an open journal with part of the steps done', async (t) => {
    const first = run([...common, '--accept', bundle, '--once']);
    await first.next((l) => l.event === 'ack');
    await first.next((l) => l.event === 'step' && (l.step ?? 0) >= KILL_AFTER_STEPS);
    first.child.kill('SIGKILL');
    t.same(await first.exit, { code: null, signal: 'SIGKILL' });
    const store = createFleetStore(new Database(db, { readonly: false }));
    const open = store.journal.open('bulk');
    t.equal(open?.revision, 'r1', 'the journal is still open');
    const done = open!.steps.filter((s) => s.done).length;
    t.ok(done >= KILL_AFTER_STEPS && done < OBJECTS, `${done} of ${OBJECTS} steps done at the kill`);
    t.equal(store.inventory('bulk').length, done, 'the inventory holds exactly the steps recorded done');
    t.ok(countConfigMaps() < OBJECTS - 2, 'the cluster holds only part of the bundle');
  });

  await t.test('a new process on the same database resumes at the first unfinished step and completes', async (t) => {
    const second = run([...common, '--once']);
    const { code } = await second.exit;
    t.equal(code, 0, 'exit 0');
    const steps = second.lines.filter((l) => l.event === 'step').map((l) => l.step ?? -1);
    t.ok(steps.length > 0 && steps[0]! >= KILL_AFTER_STEPS, `resumed at step ${steps[0]}, not from the start`);
    t.equal(steps.at(-1), OBJECTS - 1, 'ran to the last step');
    t.equal(countConfigMaps(), OBJECTS - 2, 'every ConfigMap exists');
    const store = createFleetStore(new Database(db));
    t.equal(store.journal.open('bulk'), undefined, 'journal closed');
    t.equal(store.applied('bulk').revision, 'r1');
    t.equal(store.inventory('bulk').length, OBJECTS);
  });

  await t.test('a restarted process with only its database (no server anywhere) keeps correcting drift', async (t) => {
    const loop = run([...common, '--interval', '200']);
    t.teardown(() => { loop.child.kill('SIGKILL'); });
    await loop.next((l) => l.event === 'pass');
    kubectl('delete', 'configmap', 'cm-007', '-n', 'bulk');
    kubectl('scale', 'deployment', 'web', '-n', 'bulk', '--replicas=6');
    // A pass may fall between the two kubectl commands, so corrections are gathered over passes.
    const corrected = (): string[] => [...new Set(loop.lines.flatMap((l) => (l.deployments ?? []).flatMap((d) => d.corrected)))].sort();
    await loop.next((l) => l.event === 'pass' && corrected().length === 2);
    t.same(corrected(), ['ConfigMap bulk/cm-007', 'Deployment bulk/web'], 'both corrected by the restarted process');
    await until('cm-007 back and replicas 2', async () => {
      const cm = kubectl('get', 'configmap', 'cm-007', '-n', 'bulk', '--ignore-not-found', '-o', 'name');
      const replicas = kubectl('get', 'deployment', 'web', '-n', 'bulk', '-o', 'jsonpath={.spec.replicas}');
      return cm.includes('cm-007') && replicas === '2' ? true : undefined;
    });
    loop.child.kill('SIGTERM');
    t.equal((await loop.exit).code, 0, 'stops cleanly on SIGTERM');
    const store = createFleetStore(new Database(db));
    const rows = store.outbox.peek(10_000);
    const states = rows.map((r) => r.status.state);
    t.ok(states.includes('Modified') && states.at(-1) !== 'Modified', `statuses from three processes piled up in the outbox, drift included (${states.join(' → ')})`);
    t.ok(rows.every((r, i) => i === 0 || r.seq > rows[i - 1]!.seq), 'sequence numbers increase across process restarts');
    t.ok(rows.every((r, i) => i === 0 || statusFingerprint(r.status) !== statusFingerprint(rows[i - 1]!.status)), 'no status queued twice in a row');
  });
});
