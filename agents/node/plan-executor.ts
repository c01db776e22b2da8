// Runs plans on this node, one at a time, through the crash-safe state machine (plan-machine.ts):
// every move is committed (plan-store.ts) before the side effect it announces, so a kill -9 or a
// power cut at any point resumes from the disk — files rewritten, idempotent steps rerun, an
// interrupted non-idempotent instruction never run twice. Runs to the end whether or not the
// server is reachable; results wait in the outbox.
import path from 'node:path';
import type { Logger } from 'pino';
import { planSteps, stepLabel, type PlanStep } from '../../protocol/index.ts';
import { afterStep, nextAction, rollbackLabel, type RollbackStep } from './plan-machine.ts';
import type { PlanRow, PlanStore } from './plan-store.ts';
import { backupFile, ensureDirectory, restoreFile, writeFileAtomic } from './file-writer.ts';
import { describeResult, runCommand } from './run-command.ts';
import { runProbes } from './probes.ts';

export interface ExecutorDeps {
  store: PlanStore;
  /** Where previous versions of files are kept, per plan run. */
  backupDir: string;
  log: Logger;
  /** After each committed move (the endpoint's outbox drain, tests). */
  onChange?: (row: PlanRow) => void;
}

interface StepOutcome {
  ok: boolean;
  exitCode: number | null;
  output: string;
  message: string;
}

export class PlanExecutor {
  readonly #deps: ExecutorDeps;
  #running: Promise<void> | undefined;
  #again = false;
  #stopping = false;
  readonly #abort = new AbortController();

  constructor(deps: ExecutorDeps) {
    this.#deps = deps;
  }

  /** Runs whatever is runnable now (and again if kicked meanwhile); resolves when idle. */
  kick(): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      // Yield first: a run that finds nothing to do must not clear the handle before it is set.
      await null;
      try {
        do {
          this.#again = false;
          for (let row = this.#deps.store.next(); row && !this.#stopping; row = this.#deps.store.next()) await this.#run(row.name);
        } while (this.#again && !this.#stopping);
      } catch (err) {
        if (!this.#stopping) this.#deps.log.error({ err: (err as Error).message }, 'plan executor failed; retrying on the next kick');
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /**
   * Stops after the step in flight, waiting at most `graceMs` for it; a step still running then is
   * left to the next start, which sees it as interrupted (exactly as after a crash).
   */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    if (this.#running) await Promise.race([this.#running, new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  #changed(row: PlanRow): PlanRow {
    this.#deps.onChange?.(row);
    return row;
  }

  async #run(name: string): Promise<void> {
    const { store, log } = this.#deps;
    for (;;) {
      if (this.#stopping) return;
      const row = store.get(name);
      if (!row) return;
      const a = nextAction(row.plan, row);
      const plog = log.child({ plan: name, checksum: row.checksum.slice(0, 12) });
      switch (a.kind) {
        case 'idle':
          return;
        case 'start':
          plog.info({ source: row.source }, 'plan started');
          this.#changed(store.save({ ...row, state: 'InProgress', phase: 'apply', step: 0, stepStarted: false, message: 'started' }));
          break;
        case 'finish': {
          const message = a.state === 'RolledBack' || (a.state === 'Canceled' && row.phase === 'rollback') ? `${a.message}: ${row.message}` : a.message;
          plog.info({ state: a.state, message }, 'plan finished');
          this.#changed(store.finish(row, a.state, message));
          return;
        }
        case 'interrupted': {
          const cancel = a.label === 'canceled';
          const message = cancel ? 'canceled' : `${a.label} was interrupted (agent restart) and is not idempotent, so it was not run again`;
          plog.warn({ step: a.step }, message);
          const after = afterStep(row.plan, row, false, cancel ? 'cancel' : 'failure');
          this.#changed(cancel ? store.save({ ...after, message }) : store.finishStep(row, { ...after, exitCode: null, message }, a.label, null, ''));
          break;
        }
        case 'run': {
          const label = a.phase === 'apply' ? stepLabel(a.target) : rollbackLabel(a.target);
          const { row: started, runs } = store.startStep(row, label);
          this.#changed(started);
          plog.info({ phase: a.phase, step: a.step, label, runs }, a.rerun ? 'step rerun after an interruption' : 'step started');
          let out: StepOutcome;
          try {
            out = a.phase === 'apply' ? await this.#apply(started, a.target) : await this.#rollback(started, a.target);
          } catch (err) {
            out = { ok: false, exitCode: null, output: '', message: `${label}: ${(err as Error).message}` };
          }
          if (this.#stopping && this.#abort.signal.aborted && !out.ok) return;
          const after = afterStep(started.plan, started, out.ok);
          // During a rollback the message keeps the failure that caused it.
          const message = started.phase === 'rollback' && out.ok ? started.message : out.message;
          this.#changed(store.finishStep(started, { ...after, exitCode: out.exitCode, message }, label, out.exitCode, out.output));
          break;
        }
      }
    }
  }

  #backups(row: PlanRow): string {
    return path.join(this.#deps.backupDir, `${row.name}-${row.checksum.slice(0, 16)}`);
  }

  async #apply(row: PlanRow, step: PlanStep): Promise<StepOutcome> {
    const { store } = this.#deps;
    if (step.kind === 'file') {
      const f = step.file;
      // The backup is taken once per run: a rerun after a crash must not back up our own new version.
      if (!store.backup(row.name, row.checksum, f.path)) {
        const b = backupFile(f.path, this.#backups(row));
        store.recordBackup(row.name, row.checksum, f.path, b.existed, b.backup);
      }
      if (f.directory) ensureDirectory(f.path, f.mode, f.owner);
      else writeFileAtomic(f.path, Buffer.from(f.base64 ?? '', 'base64'), f.mode, f.owner);
      return { ok: true, exitCode: null, output: '', message: `wrote ${f.path}` };
    }
    if (step.kind === 'instruction') return this.#command(step.instruction, `instruction ${step.instruction.name}`);
    const r = await runProbes(row.plan.probes, this.#abort.signal);
    return { ok: r.ok, exitCode: null, output: r.message, message: r.message };
  }

  async #rollback(row: PlanRow, step: RollbackStep): Promise<StepOutcome> {
    if (step.kind === 'restore-files') {
      const backups = this.#deps.store.backups(row.name, row.checksum);
      for (const b of backups) restoreFile(b.path, b);
      return { ok: true, exitCode: null, output: '', message: `restored ${backups.length} files` };
    }
    return this.#command(step.instruction, `rollback ${step.instruction.name}`);
  }

  async #command(i: { command: string; args: string[]; env: Record<string, string>; workingDir?: string | undefined; timeoutMs: number }, label: string): Promise<StepOutcome> {
    const r = await runCommand({ command: i.command, args: i.args, env: i.env, workingDir: i.workingDir, timeoutMs: i.timeoutMs });
    const ok = r.exitCode === 0 && !r.timedOut && !r.spawnError;
    return { ok, exitCode: r.exitCode, output: r.output, message: ok ? `${label}: done` : `${label} failed: ${describeResult(r, i.timeoutMs)}` };
  }
}
