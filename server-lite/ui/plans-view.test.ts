// The plans page's pure parts: a plan's condition, the actions offered in it, and a user's share
// of a plan's node states.
import t from 'tap';
import { planActions, planCondition, planSummaryText, summariseNodes } from './pages/plans.ts';
import type { PlanNodeView } from '../plans/plan-view.ts';

t.test('condition and actions: cancel ends everything; resume where paused or halted, pause otherwise', async (t) => {
  const p = (paused: boolean, canceled: boolean, halted: boolean) => ({ paused, canceled, halted });
  t.equal(planCondition(p(false, false, false)), 'active');
  t.same(planActions(p(false, false, false)), ['pause', 'cancel']);
  t.equal(planCondition(p(true, false, false)), 'paused');
  t.same(planActions(p(true, false, false)), ['resume', 'cancel']);
  t.equal(planCondition(p(false, false, true)), 'halted');
  t.same(planActions(p(false, false, true)), ['resume', 'cancel']);
  t.equal(planCondition(p(true, true, true)), 'canceled');
  t.same(planActions(p(true, true, false)), []);
});

t.test('a share of the nodes is counted by state', async (t) => {
  const n = (state: PlanNodeView['state']): PlanNodeView => ({ id: state, name: state, state, checksum: null, instruction: null, exitCode: null, message: '', since: null });
  const s = summariseNodes([n('Succeeded'), n('Succeeded'), n('Offline'), n('RolledBack')]);
  t.match(s, { succeeded: 2, offline: 1, rolledBack: 1, pending: 0 });
  t.equal(planSummaryText(s), '2 Succeeded, 1 RolledBack, 1 Offline');
  t.equal(planSummaryText(summariseNodes([])), 'no nodes targeted');
});
