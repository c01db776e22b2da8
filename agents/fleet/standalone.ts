// The fleet agent core as a process of its own, with no server: `node agents/fleet/standalone.ts
// --db FILE --kubeconfig FILE [--accept DEPLOYMENT.json] [--once] [--interval MS]`. It stores an
// optional desired deployment, then reconciles from SQLite: once, or until SIGTERM. The tunnel
// wiring (agents/common) will replace --accept; until then this is how tests and people drive it.
// Progress goes to stdout as JSON lines ({"event":"step",…}, {"event":"pass",…}).
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import pino from 'pino';
import { createFleetStore } from './store.ts';
import { createHttpsKube } from './kube-https.ts';
import { createReconciler, reconcileOnce, type ReconcilerDeps } from './reconciler.ts';
import type { DesiredDeployment } from './types.ts';

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      db: { type: 'string' },
      kubeconfig: { type: 'string' },
      accept: { type: 'string' },
      once: { type: 'boolean', default: false },
      interval: { type: 'string' },
    },
  });
  if (!values.db || !values.kubeconfig) {
    process.stderr.write('usage: standalone.ts --db FILE --kubeconfig FILE [--accept FILE] [--once] [--interval MS]\n');
    return 2;
  }
  const db = new Database(values.db);
  db.pragma('journal_mode = WAL');
  const store = createFleetStore(db);
  const out = (event: string, fields: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
  if (values.accept) {
    const ack = store.acceptDesired(JSON.parse(readFileSync(values.accept, 'utf8')) as DesiredDeployment);
    out('ack', ack);
  }
  const kube = await createHttpsKube(values.kubeconfig);
  const deps: ReconcilerDeps = {
    store, kube, now: () => new Date(),
    log: pino({ level: process.env.DROVER_LOG_LEVEL ?? 'warn' }, pino.destination({ dest: 2, sync: true })),
    onStep: (deploymentId, step) => out('step', { deploymentId, step: step.step, action: step.action }),
    onPass: (report) => out('pass', { ...report }),
    ...(values.interval ? { intervalMs: Number(values.interval) } : {}),
  };
  if (values.once) {
    const report = await reconcileOnce(deps);
    out('pass', { ...report });
    kube.close();
    db.close();
    return report.deployments.every((d) => d.error === undefined) ? 0 : 1;
  }
  const loop = createReconciler(deps);
  loop.start();
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await loop.stop();
  kube.close();
  db.close();
  return 0;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
