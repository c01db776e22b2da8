// The crash-safe plan state machine (pure; issue 15): from what is persisted about a plan's run —
// its state, phase, the step it is at and whether that step had started — the next thing to do,
// and how a step's outcome moves the run on. The executor persists each move before the side
// effect it announces, so after a kill -9 this function sees exactly where the run stopped:
// a step marked started but not finished was interrupted; it is run again only when that is safe
// (files, probes, idempotent instructions); an interrupted non-idempotent instruction is never run
// twice — the run fails at it and rolls back (or pauses, as the plan says).
import type { Plan, PlanInstruction, PlanState, PlanStep } from '../../protocol/index.ts';
import { planSteps, stepLabel } from '../../protocol/index.ts';

export type Phase = 'apply' | 'rollback';
export type RollbackCause = 'failure' | 'cancel';

export interface Progress {
  state: PlanState;
  phase: Phase;
  /** The next step of the phase to run (or the one running when `stepStarted`). */
  step: number;
  stepStarted: boolean;
  cancelRequested: boolean;
  rollbackCause: RollbackCause | null;
}

export type RollbackStep = { kind: 'restore-files' } | { kind: 'instruction'; index: number; instruction: PlanInstruction };

export function rollbackSteps(plan: Plan): RollbackStep[] {
  return [{ kind: 'restore-files' }, ...plan.rollback.map((instruction, index) => ({ kind: 'instruction' as const, index, instruction }))];
}

export function rollbackLabel(s: RollbackStep): string {
  return s.kind === 'restore-files' ? 'restore files' : `rollback ${s.instruction.name}`;
}

export type Action =
  | { kind: 'idle' }
  | { kind: 'start' }
  | { kind: 'run'; phase: 'apply'; step: number; target: PlanStep; rerun: boolean }
  | { kind: 'run'; phase: 'rollback'; step: number; target: RollbackStep; rerun: boolean }
  /** The step at `step` was interrupted and may not run again: treat as its failure. */
  | { kind: 'interrupted'; phase: Phase; step: number; label: string }
  | { kind: 'finish'; state: PlanState; message: string };

const safeToRerun = (s: PlanStep | RollbackStep): boolean => s.kind !== 'instruction' || s.instruction.idempotent;

export function nextAction(plan: Plan, p: Progress): Action {
  if (p.state === 'Pending') return p.cancelRequested ? { kind: 'finish', state: 'Canceled', message: 'canceled before it started' } : { kind: 'start' };
  if (p.state !== 'InProgress') return { kind: 'idle' };
  if (p.phase === 'apply') {
    const steps = planSteps(plan);
    const target = steps[p.step];
    if (p.stepStarted && target && !safeToRerun(target)) return { kind: 'interrupted', phase: 'apply', step: p.step, label: stepLabel(target) };
    // Cancel takes effect between steps: a started step is finished (or rerun) first.
    if (p.cancelRequested && !p.stepStarted) return { kind: 'interrupted', phase: 'apply', step: p.step, label: 'canceled' };
    if (!target) return { kind: 'finish', state: 'Succeeded', message: `${steps.length} steps done` };
    return { kind: 'run', phase: 'apply', step: p.step, target, rerun: p.stepStarted };
  }
  const steps = rollbackSteps(plan);
  const target = steps[p.step];
  if (p.stepStarted && target && !safeToRerun(target)) return { kind: 'finish', state: 'Failed', message: `the rollback was interrupted at ${rollbackLabel(target)}, which is not idempotent and was not run again` };
  if (!target) return { kind: 'finish', state: p.rollbackCause === 'cancel' ? 'Canceled' : 'RolledBack', message: p.rollbackCause === 'cancel' ? 'canceled and rolled back' : 'rolled back' };
  return { kind: 'run', phase: 'rollback', step: p.step, target, rerun: p.stepStarted };
}

/** The progress after a step of the current phase finished (`ok`), or failed. */
export function afterStep<P extends Progress>(plan: Plan, p: P, ok: boolean, cause: RollbackCause = 'failure'): P {
  if (ok) return { ...p, step: p.step + 1, stepStarted: false };
  if (p.phase === 'rollback') return { ...p, state: 'Failed', stepStarted: false };
  if (cause === 'failure' && plan.onFailure === 'pause') return { ...p, state: 'Paused', stepStarted: false };
  return { ...p, phase: 'rollback', step: 0, stepStarted: false, rollbackCause: cause };
}
