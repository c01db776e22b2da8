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

t.test('fallback path across HA replicas: a node agent on another replica serves when none is here, unless it said it cannot', async (t) => {
  const { kubePath } = await import('./kube-fallback.ts');
  const { SessionRegistry } = await import('../tunnel/session-registry.ts');
  const facts: Record<string, string> = {};
  const asked: string[] = [];
  const remote = { id: 's1', agentId: 'a-node', clusterId: 'c1', nodeId: 'n1', role: 'node' as const, since: 1, remoteAddress: 'replica r2', protocol: 'peer', replicaId: 'r2', close: () => {} };
  const ctx = {
    sessions: new SessionRegistry(),
    store: { listAgents: async () => [{ id: 'a-node', facts: { extras: facts } }] },
    ha: {
      clusterSession: async (clusterId: string, role = 'cluster') => {
        asked.push(`${clusterId}/${role}`);
        return role === 'node' ? remote : undefined;
      },
    },
  } as unknown as Parameters<typeof kubePath>[0];
  t.same(await kubePath(ctx, 'c1'), { via: 'node-agent', session: remote }, 'unknown ability: served through the replica holding it');
  t.same(asked, ['c1/cluster', 'c1/node'], 'the cluster agent is asked for first, anywhere');
  facts['node.kubeApiFallback'] = 'unavailable';
  t.equal(await kubePath(ctx, 'c1'), undefined, 'a node agent that said it cannot is not used');
  t.equal(await kubePath({ ...ctx, ha: undefined }, 'c1'), undefined, 'one server: nothing elsewhere');
});
