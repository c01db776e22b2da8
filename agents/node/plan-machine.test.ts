import t from 'tap';
import { checkPlan } from '../../protocol/index.ts';
import { afterStep, nextAction, type Progress } from './plan-machine.ts';

const plan = checkPlan({
  kind: 'Plan',
  files: [{ path: '/tmp/x', content: 'x' }],
  instructions: [
    { name: 'safe', command: '/bin/true', timeout: 1, idempotent: true },
    { name: 'once', command: '/bin/true', timeout: 1 },
  ],
  rollback: [{ name: 'undo', command: '/bin/true', timeout: 1, idempotent: true }, { name: 'undo-once', command: '/bin/true', timeout: 1 }],
}).plan;
const start: Progress = { state: 'InProgress', phase: 'apply', step: 0, stepStarted: false, cancelRequested: false, rollbackCause: null };

t.test('plan machine: a run goes through files and instructions in order, then succeeds', async (t) => {
  t.same(nextAction(plan, { ...start, state: 'Pending' }), { kind: 'start' });
  let p = start;
  const seen: string[] = [];
  for (;;) {
    const a = nextAction(plan, p);
    if (a.kind !== 'run') {
      t.same(a, { kind: 'finish', state: 'Succeeded', message: '3 steps done' });
      break;
    }
    seen.push(a.target.kind);
    p = afterStep(plan, p, true);
  }
  t.same(seen, ['file', 'instruction', 'instruction']);
});

t.test('plan machine: an interrupted file or idempotent step is run again', async (t) => {
  t.match(nextAction(plan, { ...start, stepStarted: true }), { kind: 'run', step: 0, rerun: true });
  t.match(nextAction(plan, { ...start, step: 1, stepStarted: true }), { kind: 'run', step: 1, rerun: true });
});

t.test('plan machine: an interrupted non-idempotent instruction is never run again: the run fails there and rolls back', async (t) => {
  const p = { ...start, step: 2, stepStarted: true };
  t.same(nextAction(plan, p), { kind: 'interrupted', phase: 'apply', step: 2, label: 'instruction once' });
  const rb = afterStep(plan, p, false);
  t.match(rb, { state: 'InProgress', phase: 'rollback', step: 0, rollbackCause: 'failure' });
  t.match(nextAction(plan, rb), { kind: 'run', phase: 'rollback', target: { kind: 'restore-files' } });
});

t.test('plan machine: onFailure pause stops at the failed step', async (t) => {
  const paused = { ...plan, onFailure: 'pause' as const };
  t.match(afterStep(paused, { ...start, step: 1 }, false), { state: 'Paused', step: 1 });
  t.same(nextAction(paused, { ...start, state: 'Paused' }), { kind: 'idle' });
});

t.test('plan machine: a rollback ends RolledBack, or Canceled when a cancel caused it', async (t) => {
  const rb: Progress = { ...start, phase: 'rollback', step: 3, rollbackCause: 'failure' };
  t.match(nextAction(plan, rb), { kind: 'finish', state: 'RolledBack' });
  t.match(nextAction(plan, { ...rb, rollbackCause: 'cancel' }), { kind: 'finish', state: 'Canceled' });
  t.match(nextAction(plan, { ...rb, step: 1, stepStarted: true }), { kind: 'run', rerun: true }, 'an idempotent rollback step is rerun');
  t.match(nextAction(plan, { ...rb, step: 2, stepStarted: true }), { kind: 'finish', state: 'Failed' }, 'a non-idempotent one is not');
  t.match(afterStep(plan, { ...rb, step: 1 }, false), { state: 'Failed' }, 'a failing rollback step fails the run');
});

t.test('plan machine: cancel', async (t) => {
  t.match(nextAction(plan, { ...start, state: 'Pending', cancelRequested: true }), { kind: 'finish', state: 'Canceled' });
  t.match(nextAction(plan, { ...start, step: 1, cancelRequested: true }), { kind: 'interrupted', label: 'canceled' });
  t.match(afterStep(plan, { ...start, step: 1, cancelRequested: true }, false, 'cancel'), { phase: 'rollback', rollbackCause: 'cancel' });
  t.match(nextAction(plan, { ...start, step: 1, stepStarted: true, cancelRequested: true }), { kind: 'run', rerun: true }, 'a started idempotent step finishes first');
  for (const s of ['Succeeded', 'Failed', 'RolledBack', 'Canceled'] as const) t.same(nextAction(plan, { ...start, state: s }), { kind: 'idle' });
});
