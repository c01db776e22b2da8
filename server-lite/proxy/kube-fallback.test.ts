import t from 'tap';
import { pickNodeSession } from './kube-fallback.ts';

t.test('fallback path: node agents that can reach the apiserver first, then unknown (older agents), newest first; never one that cannot', async (t) => {
  const s = (agentId: string, since: number) => ({ agentId, since });
  const able: Record<string, boolean | undefined> = { yes1: true, yes2: true, old: undefined, no: false };
  const pick = (list: { agentId: string; since: number }[]) => pickNodeSession(list, (id) => able[id])?.agentId;
  t.equal(pick([s('old', 9), s('yes1', 1), s('yes2', 2), s('no', 10)]), 'yes2');
  t.equal(pick([s('old', 9), s('no', 10)]), 'old');
  t.equal(pick([s('no', 10)]), undefined);
  t.equal(pick([]), undefined);
});
