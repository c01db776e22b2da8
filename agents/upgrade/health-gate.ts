// The health gate of an upgrade (issue 16): at every start of `drover agent run`, before any tunnel,
// recover() finishes or undoes an interrupted upgrade. When this process is the new executable on
// probation, it must have every role connected before the deadline: then the upgrade is committed;
// otherwise the previous executable is put back and the process exits, so systemd (or the test
// supervisor) starts the previous one — no person involved.
import type { Logger } from 'pino';
import { commit, recover, rollBack } from './swap.ts';
import { readRecord } from './upgrade-state.ts';

export interface GateDeps {
  dataDir: string;
  now: () => number;
  log: Logger;
  /** Every role of this process has its tunnel connected. */
  healthy: () => boolean;
  /** Ends the process after a rollback (non-zero: the unit restarts into the previous executable). */
  exit: (code: number) => void;
  pollMs?: number;
}

export interface Gate {
  /** True when the process must not go on (rolled back at start). */
  mustExit: boolean;
  stop(): void;
}

export function startHealthGate(d: GateDeps): Gate {
  const r = recover(d.dataDir, d.now(), 'in-process');
  if (r.action === 'rolled-back') {
    d.log.error({ version: r.record.version }, r.record.message);
    return { mustExit: true, stop() {} };
  }
  if (r.action === 'none') return { mustExit: false, stop() {} };
  d.log.info({ version: r.record.version, deadline: new Date(r.deadline).toISOString() }, 'upgrade: new executable on probation until every role connects');
  const timer = setInterval(() => {
    if (readRecord(d.dataDir).phase !== 'Restarting') {
      clearInterval(timer);
      return;
    }
    if (d.healthy()) {
      clearInterval(timer);
      const done = commit(d.dataDir, d.now());
      d.log.info({ version: done?.version }, 'upgrade: healthy; committed (previous executable removed)');
      return;
    }
    if (d.now() > r.deadline) {
      clearInterval(timer);
      const back = rollBack(d.dataDir, readRecord(d.dataDir), `${r.record.version ?? 'the new version'} did not connect within the health deadline`, d.now());
      if (back.action === 'rolled-back') d.log.error({ version: r.record.version }, back.record.message);
      d.exit(1);
    }
  }, d.pollMs ?? 500);
  timer.unref();
  return { mustExit: false, stop: () => clearInterval(timer) };
}
