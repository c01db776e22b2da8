// The fleet agent's one entry point for the role runner and the tunnel wiring: hand it the agent's
// database and a Kube; call `accept`/`remove` for desired-state messages (acknowledge with what
// they return, only after they return), `resumePoint` on reconnect, `pendingStatuses` /
// `acknowledgeStatuses` to drain the outbox, and `status` for `drover agent status`.
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { DeploymentOptions, DesiredDeployment } from './types.ts';
import type { Kube } from './kube.ts';
import type { OutboxRow } from './outbox.ts';
import { createFleetStore, type FleetStore } from './store.ts';
import { createReconciler, type PassReport } from './reconciler.ts';
import { fleetStatusReport, type FleetStatusReport } from './status-report.ts';
import { DriftWatch, type DriftWatchStats } from './drift-watch.ts';
import type { Clock } from '../../protocol/index.ts';

export interface FleetAgentDeps {
  db: Database;
  kube: Kube;
  log: Logger;
  now?: () => Date;
  intervalMs?: number;
  outboxMaxRows?: number;
  onPass?: (report: PassReport) => void;
  /** Correct drift from Kubernetes watch events between passes (default: on when the Kube can watch). */
  watchDrift?: boolean;
  /** Statuses were queued (after a pass or a drift correction): tell the server (decision 1041). */
  onStatusQueued?: (queued: number) => void;
  /** Timers of the drift watch (debounce, backoff); the system clock by default. */
  clock?: Clock;
}

export interface FleetAgent {
  /** Stores the deployment durably, then schedules a pass; returns the acknowledgement to send. */
  accept(d: DesiredDeployment): { deploymentId: string; revision: string };
  /** The server no longer targets this deployment: durably marked, pruned by the next pass. */
  remove(deploymentId: string): boolean;
  /** What this agent holds, for the server to send only what changed. */
  /** Per deployment: the revision and options stored (the server re-sends when either differs). */
  resumePoint(): { deploymentId: string; revision: string; options: DeploymentOptions }[];
  /** The oldest queued statuses, in sequence order. */
  pendingStatuses(limit?: number): OutboxRow[];
  /** The server stored every status up to `seq`. */
  acknowledgeStatuses(seq: number): number;
  status(): FleetStatusReport;
  /** The drift watch's counters (undefined when the agent only polls). */
  driftWatch(): DriftWatchStats | undefined;
  reconcileNow(): Promise<PassReport>;
  start(): void;
  stop(): Promise<void>;
  readonly store: FleetStore;
}

export function createFleetAgent(deps: FleetAgentDeps): FleetAgent {
  const now = deps.now ?? (() => new Date());
  const store = createFleetStore(deps.db, { now, ...(deps.outboxMaxRows === undefined ? {} : { outboxMaxRows: deps.outboxMaxRows }) });
  let drift: DriftWatch | undefined;
  const loop = createReconciler({
    store, kube: deps.kube, log: deps.log, now,
    afterEachPass: (r) => {
      drift?.update(r.observed, new Map(store.held().map((h) => [h.deploymentId, h.revision])));
      if (r.queued > 0) deps.onStatusQueued?.(r.queued);
    },
    ...(deps.intervalMs === undefined ? {} : { intervalMs: deps.intervalMs }),
    ...(deps.onPass === undefined ? {} : { onPass: deps.onPass }),
  });
  if (deps.watchDrift !== false && DriftWatch.supported(deps.kube)) {
    drift = new DriftWatch({
      kube: deps.kube, log: deps.log, ...(deps.clock === undefined ? {} : { clock: deps.clock }),
      correct: (drifted) => loop.correct(drifted).then((done) => {
        if (done.length > 0) deps.onStatusQueued?.(done.length);
        return done;
      }),
      resync: () => soon(),
    });
  }
  let running = false;
  // A new desired state is applied at once rather than at the next tick; failures are the
  // pass's to report (ErrApplied), never the acknowledgement's.
  const soon = (): void => {
    if (running) void loop.trigger().then((r) => deps.onPass?.(r), (err: unknown) => deps.log.error({ err }, 'reconcile pass crashed'));
  };
  return {
    store,
    accept(d) {
      const ack = store.acceptDesired(d);
      deps.log.info({ deployment: d.id, bundle: d.bundle, revision: d.revision, objects: d.manifests.length }, 'desired state stored');
      soon();
      return ack;
    },
    remove(id) {
      const removed = store.removeDesired(id);
      if (removed) soon();
      return removed;
    },
    resumePoint: () => store.held(),
    pendingStatuses: (limit) => store.outbox.peek(limit),
    acknowledgeStatuses: (seq) => store.outbox.ack(seq),
    status: () => fleetStatusReport(store),
    driftWatch: () => drift?.stats(),
    reconcileNow: () => loop.trigger(),
    start() {
      running = true;
      loop.start();
    },
    async stop() {
      running = false;
      drift?.stop();
      await loop.stop();
    },
  };
}
