// The health gate of an upgrade (issue 16): at every start of `drover agent run`, before any tunnel,
// recover() finishes or undoes an interrupted upgrade. When this process is the new executable on
// probation, every role that ran on the device at the swap must be connected from the new
// executable before the deadline: then the upgrade is committed; otherwise the previous executable
// is put back and the process exits, so systemd (or the test supervisor) starts the previous one —
// no person involved.
//
// Readiness (decision 1131): a normal start is ready at once (an agent that boots offline is never
// held back for not connecting); on probation READY is deferred until the commit and the unit's
// start timeout is extended to the health deadline, so systemd's TimeoutStartSec ends a new
// executable that hangs before any of our code runs, and the pre-start step rolls it back.
import type { Logger } from 'pino';
import { commit, recover, rollBack } from './swap.ts';
import { readRecord } from './upgrade-state.ts';

export interface GateDeps {
  dataDir: string;
  now: () => number;
  log: Logger;
  /** The key this process's starts are counted under (its roles). */
  key: string;
  /** Every role expected on the device is connected from the new executable. */
  healthy: () => boolean;
  /** Ends the process after a rollback (non-zero: the unit restarts into the previous executable). */
  exit: (code: number) => void;
  /** systemd notifications (READY=1, EXTEND_TIMEOUT_USEC=…, STATUS=…). */
  notify: (assignments: string[]) => void;
  pollMs?: number;
}

export interface Gate {
  /** True when the process must not go on (rolled back at start). */
  mustExit: boolean;
  stop(): void;
}

/** Margin over the health deadline for the unit's extended start timeout. */
const EXTEND_MARGIN_MS = 30_000;

export function startHealthGate(d: GateDeps): Gate {
  const r = recover(d.dataDir, d.now(), 'in-process', d.key);
  if (r.action === 'rolled-back') {
    d.log.error({ version: r.record.version }, r.record.message);
    return { mustExit: true, stop() {} };
  }
  if (r.action === 'none') {
    d.notify(['READY=1']);
    return { mustExit: false, stop() {} };
  }
  d.log.info({ version: r.record.version, deadline: new Date(r.deadline).toISOString() }, 'upgrade: new executable on probation until every role connects');
  d.notify([`EXTEND_TIMEOUT_USEC=${Math.max(0, r.deadline - d.now() + EXTEND_MARGIN_MS) * 1000}`, `STATUS=upgrade to ${r.record.version ?? '?'} on probation: waiting for every role to connect`]);
  const timer = setInterval(() => {
    if (readRecord(d.dataDir).phase !== 'Restarting') {
      // Committed (or rolled back) by another role's process of this device.
      clearInterval(timer);
      d.notify(['READY=1', 'STATUS=']);
      return;
    }
    if (d.healthy()) {
      clearInterval(timer);
      const done = commit(d.dataDir, d.now());
      d.log.info({ version: done?.version }, 'upgrade: healthy; committed (previous executable removed)');
      d.notify(['READY=1', 'STATUS=']);
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
