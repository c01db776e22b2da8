import t from 'tap';
import { parseMaxUnavailable, pickCanaries, planUpgrade, type RolloutAgent } from './upgrade-rollout.ts';

const agents = (n: number, over: (a: RolloutAgent, i: number) => Partial<RolloutAgent> = () => ({})): RolloutAgent[] =>
  Array.from({ length: n }, (_, i) => {
    const a: RolloutAgent = { id: `a${i}`, name: `a${i}`, labels: {}, online: true, canary: false, state: 'Pending' };
    return { ...a, ...over(a, i) };
  });

t.test('upgrade rollout: max-unavailable bounds the agents upgrading at once', async (t) => {
  const d = planUpgrade({ version: '0.2.0', maxUnavailable: 2, agents: agents(5) });
  t.same(d.assign, ['a0', 'a1']);
  const next = planUpgrade({ version: '0.2.0', maxUnavailable: 2, agents: agents(5, (_a, i) => (i === 0 ? { state: 'Succeeded' } : i === 1 ? { state: 'Downloading' } : {})) });
  t.same(next.assign, ['a2'], 'one slot freed by the agent that succeeded');
  t.same(planUpgrade({ version: '0.2.0', maxUnavailable: '40%', agents: agents(5) }).assign, ['a0', 'a1'], '40% of 5 is 2');
});

t.test('upgrade rollout: canaries go first and the rest wait until they are done', async (t) => {
  const canary = (a: RolloutAgent) => ({ canary: a.id === 'a3' });
  const d = planUpgrade({ version: '0.2.0', maxUnavailable: 10, agents: agents(5, canary) });
  t.same(d.assign, ['a3'], 'only the canary');
  const during = planUpgrade({ version: '0.2.0', maxUnavailable: 10, agents: agents(5, (a) => ({ ...canary(a), ...(a.id === 'a3' ? { state: 'Restarting' as const } : {}) })) });
  t.same(during.assign, [], 'nobody else while the canary restarts');
  const away = planUpgrade({ version: '0.2.0', maxUnavailable: 10, agents: agents(5, (a) => ({ ...canary(a), ...(a.id === 'a3' ? { state: 'Restarting' as const, online: false } : {}) })) });
  t.same(away.assign, [], 'nor while the restarting canary has no tunnel (it is restarting, not Offline)');
  const slot = planUpgrade({ version: '0.2.0', maxUnavailable: 1, agents: agents(3, (a) => (a.id === 'a0' ? { state: 'Restarting', online: false } : {})) });
  t.same(slot.assign, [], 'a restarting agent keeps its max-unavailable slot');
  const after = planUpgrade({ version: '0.2.0', maxUnavailable: 10, agents: agents(5, (a) => ({ ...canary(a), ...(a.id === 'a3' ? { state: 'Succeeded' as const } : {}) })) });
  t.same(after.assign, ['a0', 'a1', 'a2', 'a4'], 'the rest once the canary succeeded');
});

t.test('upgrade rollout: a failed canary stops the rollout', async (t) => {
  for (const state of ['Failed', 'RolledBack'] as const) {
    const d = planUpgrade({ version: '0.2.0', maxUnavailable: 10, agents: agents(4, (a) => (a.id === 'a0' ? { canary: true, state } : {})) });
    t.equal(d.halted, true, state);
    t.same(d.failedCanaries, ['a0']);
    t.same(d.assign, [], `nothing more moves after a ${state} canary`);
  }
  const nonCanary = planUpgrade({ version: '0.2.0', maxUnavailable: 10, agents: agents(3, (a) => (a.id === 'a0' ? { state: 'Failed' } : {})) });
  t.equal(nonCanary.halted, false, 'without canaries a failure does not stop the others');
  t.same(nonCanary.assign, ['a1', 'a2']);
});

t.test('upgrade rollout: offline agents are deferred, never blocking, and upgraded when back', async (t) => {
  const d = planUpgrade({ version: '0.2.0', maxUnavailable: 1, agents: agents(3, (a) => (a.id === 'a0' ? { online: false } : {})) });
  t.same(d.assign, ['a1']);
  t.same(d.plan.deferred, ['a0']);
  const back = planUpgrade({ version: '0.2.0', maxUnavailable: 1, agents: agents(3, (a) => (a.id === 'a0' ? {} : { state: 'Succeeded' })) });
  t.same(back.assign, ['a0']);
  t.equal(back.done, false);
  t.equal(planUpgrade({ version: '0.2.0', maxUnavailable: 1, agents: agents(2, () => ({ state: 'Succeeded' })) }).done, true);
});

t.test('upgrade rollout: --max-unavailable and canary picks', async (t) => {
  t.equal(parseMaxUnavailable('3'), 3);
  t.equal(parseMaxUnavailable('25%'), '25%');
  for (const bad of ['0', '0%', '101%', '-1', 'x', '']) t.equal(parseMaxUnavailable(bad), undefined, bad);
  t.same([...pickCanaries(['c', 'a', 'b'], 2)], ['a', 'b']);
});

t.test('upgrade rollout with replicas: an agent assigned by an earlier decision, not yet reached by its replica, keeps its slot', async (t) => {
  const first = planUpgrade({ version: '0.2.0', maxUnavailable: 2, agents: agents(4) });
  t.same(first.assign, ['a0', 'a1']);
  // The scheduler stored the decision (assigned); the replicas holding a0 and a1 have not started them yet.
  const again = planUpgrade({ version: '0.2.0', maxUnavailable: 2, agents: agents(4, (a) => (a.id === 'a0' || a.id === 'a1' ? { assigned: true } : {})) });
  t.same(again.assign, [], 'no one more: both slots are taken');
  const without = planUpgrade({ version: '0.2.0', maxUnavailable: 2, agents: agents(4) });
  t.same(without.assign, ['a0', 'a1'], 'without the mark the same agents are chosen again (one replica, nothing stored)');
  const oneDone = planUpgrade({ version: '0.2.0', maxUnavailable: 2, agents: agents(4, (a) => (a.id === 'a0' ? { state: 'Succeeded', assigned: true } : a.id === 'a1' ? { assigned: true } : {})) });
  t.same(oneDone.assign, ['a2'], 'a finished agent frees its slot');
});
