// The node agent's plans: what the tunnel endpoint and the role wiring call. Accepts delivered
// plans only after checking them against the schema and the checksum the server names, picks up
// the local plan directory, runs plans through the executor, repeats periodic instructions of
// succeeded plans, and exposes the results outbox (drained by the server in sequence order).
// The executor (plan-executor.ts, with the step machine, file writer, probes and commands) is
// loaded on first use: an idle node agent with no plan to run never evaluates it (issue 25,
// decision 1222).
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { checkPlan, planChecksum, PlanInvalid, targetError, type PlanState, type TargetErrorBody } from '../../protocol/index.ts';
import { createPlanStore, type PlanResult, type PlanStore } from './plan-store.ts';
import type { PlanExecutor } from './plan-executor.ts';
import { markRejected, readLocalPlans } from './local-plans.ts';
import { createExecutorLease } from './executor-lease.ts';

export interface PlanAgentDeps {
  db: Database;
  dataDir: string;
  log: Logger;
  /** How often the local plan directory and periodic instructions are checked (default 5 s). */
  scanMs?: number | undefined;
}

export type AcceptAnswer = { status: 200; body: { name: string; checksum: string; state: PlanState } } | { status: 409 | 422; body: TargetErrorBody };

export class PlanAgent {
  readonly store: PlanStore;
  readonly plansDir: string;
  #executor: Promise<PlanExecutor> | undefined;
  #stopped = false;
  readonly #deps: PlanAgentDeps;
  #timer: NodeJS.Timeout | undefined;
  readonly #periodicBusy = new Set<string>();
  readonly #rejectedSeen = new Set<string>();
  readonly #lease: ReturnType<typeof createExecutorLease>;
  #leaseLogged = false;

  constructor(deps: PlanAgentDeps) {
    this.#deps = deps;
    this.store = createPlanStore(deps.db);
    this.plansDir = path.join(deps.dataDir, 'plans');
    this.#lease = createExecutorLease(deps.db);
  }

  /** Runs plans only while this process holds the executor lease (executor-lease.ts). */
  kick(): Promise<void> {
    if (!this.#lease.take()) {
      if (!this.#leaseLogged) this.#deps.log.warn({ holder: this.#lease.holder() }, 'another process runs the plans of this data dir; this one does not');
      this.#leaseLogged = true;
      return Promise.resolve();
    }
    this.#leaseLogged = false;
    // Nothing runnable and the executor not loaded yet: nothing to load it for.
    if (this.#executor === undefined && this.store.next() === undefined) return Promise.resolve();
    return this.#loadExecutor().then((e) => (this.#stopped ? undefined : e.kick()));
  }

  #loadExecutor(): Promise<PlanExecutor> {
    return (this.#executor ??= import('./plan-executor.ts').then(({ PlanExecutor }) => new PlanExecutor({ store: this.store, backupDir: path.join(this.#deps.dataDir, 'plan-backups'), log: this.#deps.log })));
  }

  start(): void {
    this.scanLocal();
    void this.kick();
    this.#timer = setInterval(() => {
      this.scanLocal();
      this.#periodic();
      void this.kick();
    }, this.#deps.scanMs ?? 5000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#stopped = true;
    await (await this.#executor)?.stop();
    this.#lease.release();
  }

  /** A plan from the server: `document` is checked again here and must have the checksum named. */
  accept(name: string, checksum: string, document: unknown): AcceptAnswer {
    let plan;
    try {
      plan = checkPlan(document).plan;
    } catch (err) {
      if (err instanceof PlanInvalid) return { status: 422, body: targetError('PLAN_INVALID', err.message) };
      throw err;
    }
    const actual = planChecksum(plan);
    if (actual !== checksum) return { status: 422, body: targetError('PLAN_CHECKSUM_MISMATCH', `the plan's checksum is ${actual}, not ${checksum}`) };
    const r = this.store.accept(name, checksum, plan, 'server');
    if (!r.accepted) return { status: 409, body: targetError('PLAN_BUSY', r.reason) };
    this.#deps.log.info({ plan: name, checksum: checksum.slice(0, 12), state: r.state }, 'plan stored');
    void this.kick();
    return { status: 200, body: { name, checksum, state: r.state } };
  }

  cancel(name: string): boolean {
    const done = this.store.requestCancel(name);
    if (done) void this.kick();
    return done;
  }

  /** Per plan held: its checksum and state (the server sends only what differs). */
  resumePoint(): { name: string; checksum: string; state: PlanState }[] {
    return this.store.list().map((r) => ({ name: r.name, checksum: r.checksum, state: r.state }));
  }

  pendingResults(limit: number): { seq: number; result: PlanResult }[] {
    return this.store.outbox.peek(limit).map((r) => ({ seq: r.seq, result: JSON.parse(r.body) as PlanResult }));
  }

  acknowledge(seq: number): number {
    return this.store.outbox.ack(seq);
  }

  /** Picks up new or changed plan files; invalid ones are refused and reported once per content. */
  scanLocal(): void {
    let found;
    try {
      found = readLocalPlans(this.plansDir);
    } catch (err) {
      this.#deps.log.warn({ dir: this.plansDir, err: (err as Error).message }, 'cannot read the local plan directory');
      return;
    }
    for (const p of found) {
      if (!p.ok) {
        if (this.#rejectedSeen.has(p.checksum)) continue;
        this.#rejectedSeen.add(p.checksum);
        markRejected(p);
        this.#deps.log.warn({ file: p.file, problems: p.problems }, 'local plan refused');
        const result: PlanResult = { plan: p.name, checksum: p.checksum, source: 'local', state: 'Failed', instruction: null, exitCode: null, message: `refused: ${p.problems.join('; ')}`.slice(0, 4096), since: new Date().toISOString() };
        const body = JSON.stringify(result);
        this.store.outbox.enqueue({ key: p.name, fingerprint: createHash('sha256').update(body).digest('hex').slice(0, 32), body }, new Date());
        continue;
      }
      const cur = this.store.get(p.name);
      if (cur?.checksum === p.checksum) continue;
      const r = this.store.accept(p.name, p.checksum, p.plan, 'local');
      if (r.accepted) this.#deps.log.info({ plan: p.name, file: p.file, checksum: p.checksum.slice(0, 12) }, 'local plan stored');
    }
  }

  /** Periodic instructions of succeeded plans, each at most once per its period; the last output kept. */
  #periodic(): void {
    const last = new Map(this.store.periodic().map((x) => [`${x.name}/${x.instruction}`, Date.parse(x.lastRun)]));
    for (const row of this.store.list()) {
      if (row.state !== 'Succeeded') continue;
      for (const p of row.plan.periodicInstructions) {
        const key = `${row.name}/${p.name}`;
        if (this.#periodicBusy.has(key) || Date.now() - (last.get(key) ?? 0) < p.periodMs) continue;
        this.#periodicBusy.add(key);
        void import('./run-command.ts')
          .then(({ runCommand }) => runCommand({ command: p.command, args: p.args, env: p.env, workingDir: p.workingDir, timeoutMs: p.timeoutMs }))
          .then((r) => this.store.recordPeriodic(row.name, p.name, row.checksum, r.exitCode, r.output))
          .catch((err: unknown) => this.#deps.log.warn({ plan: row.name, periodic: p.name, err: (err as Error).message }, 'periodic instruction failed'))
          .finally(() => this.#periodicBusy.delete(key));
      }
    }
  }
}
