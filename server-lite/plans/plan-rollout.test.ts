import t from 'tap';
import type { PlanState } from '../../protocol/index.ts';
import { CONTROL_PLANE_LABEL, planRollout, type PlanRolloutInput, type RolloutNode } from './plan-rollout.ts';
import { parseWindow } from './window.ts';

const C = 'c'.repeat(64);
const node = (id: string, over: Partial<RolloutNode> = {}): RolloutNode => ({ id, name: id, labels: {}, online: true, utcOffsetMinutes: 0, assigned: undefined, state: undefined, stateChecksum: undefined, ...over });
const cp = (id: string, over: Partial<RolloutNode> = {}): RolloutNode => node(id, { labels: { [CONTROL_PLANE_LABEL]: 'true' }, ...over });
const done = (state: PlanState = 'Succeeded'): Partial<RolloutNode> => ({ assigned: C, state, stateChecksum: C });
const running: Partial<RolloutNode> = { assigned: C, state: 'InProgress', stateChecksum: C };
const input = (nodes: RolloutNode[], over: Partial<PlanRolloutInput> = {}): PlanRolloutInput => ({ checksum: C, concurrency: 2, maxFailures: 0, failureBase: 0, window: undefined, paused: false, canceled: false, nodes, now: Date.parse('2026-12-05T02:00:00Z'), ...over });

t.test('plan rollout: control-plane nodes one at a time, before any worker', async (t) => {
  const nodes = [cp('cp1'), cp('cp2'), node('w1'), node('w2'), node('w3')];
  t.same(planRollout(input(nodes)).assign, ['cp1']);
  t.same(planRollout(input([cp('cp1', running), cp('cp2'), node('w1')])).assign, [], 'the second waits for the first');
  t.same(planRollout(input([cp('cp1', done()), cp('cp2'), node('w1')])).assign, ['cp2']);
  t.same(planRollout(input([cp('cp1', done()), cp('cp2', done()), node('w1'), node('w2'), node('w3')])).assign, ['w1', 'w2'], 'then workers, --concurrency at a time');
  t.same(planRollout(input([cp('cp1', done()), cp('cp2', done()), node('w1', running), node('w2', done()), node('w3')])).assign, ['w3']);
});

t.test('plan rollout: --concurrency as a percentage of the targets', async (t) => {
  const nodes = Array.from({ length: 10 }, (_, i) => node(`w${i}`));
  t.equal(planRollout(input(nodes, { concurrency: '30%' })).assign.length, 3);
  t.equal(planRollout(input(nodes, { concurrency: '1%' })).assign.length, 1, 'never less than one');
});

t.test('plan rollout: offline nodes are deferred, not failed, and never block', async (t) => {
  const d = planRollout(input([node('a', { online: false }), node('b')]));
  t.same(d.assign, ['b']);
  t.same(d.plan.deferred, ['a']);
});

t.test('plan rollout: stops after more than --max-failures failures, until resumed', async (t) => {
  const nodes = [node('a', done('Failed')), node('b', done('RolledBack')), node('c'), node('d')];
  t.match(planRollout(input(nodes, { maxFailures: 2 })), { assign: ['c', 'd'], failures: 2, halted: false });
  t.match(planRollout(input(nodes, { maxFailures: 1 })), { assign: [], halted: true });
  t.match(planRollout(input(nodes, { maxFailures: 1, failureBase: 2 })), { assign: ['c', 'd'], halted: false }, 'resume accepts the failures so far');
  t.same(planRollout(input([node('a', done('Failed')), node('c')], { maxFailures: 0 })).assign, [], 'the default 0 stops at the first failure');
});

t.test('plan rollout: the maintenance window is read in each node\'s clock', async (t) => {
  const window = parseWindow('Sat 01:00-05:00');
  const d = planRollout(input([node('utc'), node('tokyo', { utcOffsetMinutes: 540 }), node('ny', { utcOffsetMinutes: -300 })], { window, concurrency: 10 }));
  t.same(d.assign, ['utc'], '02:00 UTC is 11:00 in Tokyo and Friday 21:00 in New York');
  t.same(d.outsideWindow.sort(), ['ny', 'tokyo']);
});

t.test('plan rollout: paused or canceled plans assign nothing; a new checksum is rolled out again', async (t) => {
  t.same(planRollout(input([node('a')], { paused: true })).assign, []);
  t.same(planRollout(input([node('a')], { canceled: true })).assign, []);
  t.same(planRollout(input([node('a', { assigned: 'old', state: 'Succeeded', stateChecksum: 'old' })])).assign, ['a']);
});
